"""The scale run's Airflow seen from outside: its REST API (token, DAGs parsed, a triggered
run followed to the end) and its metadata DB (read with psycopg2). Never imports Airflow.
"""

from __future__ import annotations

import time

from listening.demo.procs import Processes, RunReport
from listening.errors import ListeningError

DAGS = ("listening_collect", "listening_analyze", "listening_reputation")
# The chain a manual collect starts: the documents asset triggers analyze, mentions reputation.
CHAIN = (
    ("listening_collect", "manual"),
    ("listening_analyze", "asset_triggered"),
    ("listening_reputation", "asset_triggered"),
)


class AirflowRest:
    """The API server at ``base_url``; waits go through ``procs`` (which checks that every
    process started is still alive, and samples their memory)."""

    def __init__(self, procs: Processes, base_url: str):
        self.procs = procs
        self.base_url = base_url
        self._session = None

    def connect(self) -> None:
        import requests

        def token():
            r = requests.get(f"{self.base_url}/auth/token", timeout=5)
            return r.status_code in (200, 201) and r.json()["access_token"]

        jwt = self.procs.wait("the API server", token, 180, interval=1)
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {jwt}"

        def parsed():
            r = self.get("/dags", params={"tags": "listening"})
            return sorted(d["dag_id"] for d in r["dags"]) == sorted(DAGS)

        self.procs.wait("the DAG processor to parse the three DAGs", parsed, 180, interval=1)

    def get(self, path: str, **kw) -> dict:
        r = self._session.get(f"{self.base_url}/api/v2{path}", timeout=10, **kw)
        r.raise_for_status()
        return r.json()

    def run_chain(self, timeout: float = 600) -> RunReport:
        """Trigger ``listening_collect`` through the REST API; wait until it and the runs its
        assets trigger (analyze, then reputation) succeed and nothing else is running."""
        api = f"{self.base_url}/api/v2"
        r = self._session.post(
            f"{api}/dags/listening_collect/dagRuns", json={"logical_date": None}, timeout=10
        )
        if r.status_code != 200:
            raise ListeningError(f"scale: triggering listening_collect failed: {r.text}")
        triggered = time.monotonic()
        self.procs.out.say("scale: listening_collect triggered through the REST API")
        seen: set[str] = set()

        def done():
            runs = [
                run
                for dag_id in DAGS
                for run in self.get(f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
            ]
            for run in runs:
                key = f"{run['dag_id']} {run['run_type']} {run['state']}"
                if key not in seen and run["state"] in ("running", "success", "failed"):
                    seen.add(key)
                    elapsed = time.monotonic() - triggered
                    self.procs.out.say(f"scale: {key} ({elapsed:.0f} s)")
            failed = [run for run in runs if run["state"] == "failed"]
            if failed:
                raise ListeningError(
                    "scale: DAG run(s) failed: "
                    + ", ".join(f"{x['dag_id']} {x['dag_run_id']}" for x in failed)
                    + f"; task logs under {self.procs.folder}/airflow/logs"
                )
            chain = all(
                any(
                    x["dag_id"] == d and x["run_type"] == t and x["state"] == "success"
                    for x in runs
                )
                for d, t in CHAIN
            )
            idle = all(x["state"] in ("success", "failed", "skipped") for x in runs)
            return runs if chain and idle else None

        runs = self.procs.wait("the DAG runs", done, timeout, interval=2)
        self.procs.report.run_s = time.monotonic() - triggered
        self.procs.report.dag_runs = runs
        return self.procs.report


def task_instances(pg_dsn: str) -> list[dict]:
    """Every task instance of the run, with the queue and the Unix user it ran under."""
    import psycopg2

    con = psycopg2.connect(pg_dsn)
    try:
        with con.cursor() as cur:
            cur.execute(
                "select dag_id, run_id, task_id, map_index, state, queue, unixname, "
                "hostname from task_instance order by dag_id, run_id, task_id, map_index"
            )
            cols = [c.name for c in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
