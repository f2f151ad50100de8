"""Patient data in and out: the trialcode JSON-lines format, CDISC SDTM datasets, and a
synthetic cohort generator. Every loader yields `engine.patient.Patient` objects and a
`RejectedRecord` for each input record it could not use."""

from engine.io.jsonl import FORMAT, PatientFileError, read_patients, write_patients
from engine.io.vocabulary import Vocabulary

__all__ = ["FORMAT", "PatientFileError", "Vocabulary", "read_patients", "write_patients"]
