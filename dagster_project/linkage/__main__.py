"""`python -m dagster_project.linkage train --data-dir DIR`: retrain the repository's model.

Trains on the identity records of DIR (run `make run` or the ingest first), saves
`models/person_model.json` beside this file, scores DIR with it and writes
`models/training_report.md` (blocking analysis; accuracy against the truth where DIR
holds a synthetic ICS). The platform's own training asset writes versioned models to the
identity zone instead; this command refreshes the model shipped with the code.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from dagster_project.lib.zones import Zones
from dagster_project.linkage import pipeline
from dagster_project.linkage.backends import Backend
from dagster_project.linkage.model import MODEL_DIR, model_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["train"])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb")
    args = parser.parse_args()
    zones = Zones.at(args.data_dir)
    backend = Backend(args.backend)
    pipeline.prepare(zones)
    model, path = pipeline.train_model(zones, backend=backend)
    shutil.copyfile(path, MODEL_DIR / model_file(backend))
    pipeline.build_person_index(zones, backend=backend)
    accuracy = pipeline.evaluate(zones)
    meta = model.metadata
    lines = [
        "# Person linkage model: training report", "",
        f"Trained {meta['trained_at']} on {meta['profiles']:,} identity profiles "
        f"(Splink {meta['splink_version']}, DuckDB {meta['duckdb_version']}, backend {meta['backend']}).",
        "Unsupervised: u by random sampling, m by expectation maximisation (blocked on postcode "
        "and birth year, then on NHS number). A model trained on DuckDB does not load on Spark: train per backend.",
        "", "## Levels fixed or floored after training (each with its reason)", "",
        "| comparison | level | m trained | m used | reason |", "| --- | --- | ---: | ---: | --- |",
        *[f"| {a['comparison']} | {a['level']} | {a['m_before']} | {a['m_after']:.3g} | {a['reason']} |"
          for a in meta.get("parameter_adjustments", [])],
        "", "## Blocking rules for prediction (Splink blocking analysis, exact counts)", "",
        "| rule | comparisons added | cumulative |", "| --- | ---: | ---: |",
        *[f"| `{r['rule']}` | {r['marginal']:,} | {r['cumulative']:,} |" for r in meta["blocking_analysis"]],
    ]
    if accuracy:
        lines += ["", "## Accuracy on the training ICS (pairwise, against the synthetic truth)", "",
                  "| method | precision | recall | F1 | recall without valid NHS number | people found / true |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for name, m in accuracy.items():
            lines.append(f"| {name} | {m['precision']} | {m['recall']} | {m['f1']} | "
                         f"{m['recall_without_valid_nhs_number']} | {m['people_predicted']:,} / {m['people_true']:,} |")
    report = MODEL_DIR / f"training_report{backend.model_suffix}.md"
    report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(json.dumps({"model": str(MODEL_DIR / model_file(backend))}))


if __name__ == "__main__":
    main()
