"""vaderSentiment-fr depends on fuzzywuzzy (GPL-2.0) while listening is Apache-2.0: the package
reads only vaderSentiment-fr's lexicon data and never imports its code (README, "Licences")."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "listening"
FORBIDDEN = ("fuzzywuzzy", "vaderSentiment_fr.vaderSentiment", "vaderSentiment_fr.tree")


def test_scoring_and_training_never_load_vader_code_or_fuzzywuzzy():
    code = (
        "import sys\n"
        "from listening.analyze.sentiment.scorer import get_scorer\n"
        "from listening import pipeline\n"
        "from listening.analyze import adapter, aspects, run\n"
        "r = get_scorer().score(\"Je n'aime pas du tout, à fuir\", 'fr')\n"
        "assert r.label == 'negative', r\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('fuzzywuzzy', "
        "'vaderSentiment_fr.', 'Levenshtein')))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_no_module_imports_vader_code():
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
