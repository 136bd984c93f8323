"""Triage: which comment the committee reads first, and why.

- `reading`: negativity, sarcasm, question, praise from the playbook's word lists;
- `bots`: bot suspicion with its reasons;
- `clusters`: near-duplicate (copy-paste campaign) clustering;
- `priority`: reach, velocity, the priority that orders the stream, a label;
- `spikes`: comments per minute against a rolling baseline;
- `assess`: the `Triager` that runs one comment through all of the above, in a
  stateless half (`prepare`) and a stateful one (`judge`).

Configured by the playbook's [triage] table. Imports no Textual; the intake
(crisis_tui.intake.pipeline) runs it on every comment before the store.
"""

from crisis_tui.triage.assess import Assessment, Prepared, Triager
from crisis_tui.triage.priority import LABELS

__all__ = ["LABELS", "Assessment", "Prepared", "Triager"]
