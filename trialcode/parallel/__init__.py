"""`trialcode validate --jobs N`: the one engine on N processes, with the same reports as one.

Patients are independent, so a run is cut into chunks of consecutive patients in input order
(`chunks`); each chunk is read and evaluated in a worker process, which returns its share of
every report as a `Part` (`parts`): report text (JSON, CSV), the summary's and the HTML
report's counters, and a bounded sample of results for the HTML listings, never the pickled
results of every patient (pickling a PatientResult costs more than evaluating it). The parent
merges the parts in input order (`pool`), so every report is byte-identical to a one-process
run, whatever the number of processes or the size of the chunks.

The one thing a chunk cannot know alone is whether a patient id already appeared in an earlier
chunk. Each part lists the ids it read; when the parent meets an id that an earlier chunk had,
it reads that chunk again with the earlier ids given, which rejects the repeated line exactly as
one pass over the file does (a rare, data-error path).
"""

from trialcode.parallel.chunks import RunSpec, RunState
from trialcode.parallel.pool import run_parts

__all__ = ["RunSpec", "RunState", "run_parts"]
