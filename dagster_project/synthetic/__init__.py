"""Synthetic Norfolk and Waveney ICS: people, GP records, activity and messy identities.

`generate(GeneratorConfig(...))` writes `landing/<source>/<extract_date>/<table>.csv`
for every table of docs/EXTRACTS.md and the evaluation truth under `truth/`. Run it as
`python -m dagster_project.synthetic --persons N --seed S --extracts K --end-date D
--messiness X --out DIR`.

Safe by construction: NHS numbers only from the never-issued 999 range; phones only
from Ofcom drama ranges; e-mails only at example.com/.org/.net. The 999 range holds
909,091 valid numbers: at populations larger than that the extra people are untraced
(no NHS number anywhere, truth status `missing`) and a warning gives their count.
"""

from dagster_project.synthetic.config import GeneratorConfig
from dagster_project.synthetic.generator import GenerationSummary, generate

__all__ = ["GeneratorConfig", "GenerationSummary", "generate"]
