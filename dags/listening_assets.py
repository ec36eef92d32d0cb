"""The assets the listening DAGs pass between them, declared once.

``listening_collect`` produces DOCUMENTS (new documents loaded into the store),
``listening_analyze`` consumes it and produces MENTIONS (brand mentions scored),
``listening_reputation`` consumes MENTIONS (and also runs daily) and produces REPUTATION (the
marts rebuilt), which ``listening_report`` reads each Monday.
"""

from __future__ import annotations

from airflow.sdk import Asset

DOCUMENTS = Asset(name="listening_documents", uri="listening://store/documents", group="listening")
MENTIONS = Asset(name="listening_mentions", uri="listening://store/mentions", group="listening")
REPUTATION = Asset(
    name="listening_reputation", uri="listening://store/reputation", group="listening"
)
