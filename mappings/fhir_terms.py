"""Standard FHIR/HL7/LOINC/UCUM terms the mappings and the profiles write (the project's own URLs
live in ``profiles/``). One place, so the two mappings and the profile generator agree."""
from __future__ import annotations

ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DIAG_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
DISCHARGE = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
BIRTH_TIME = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

#: Encounter.diagnosis.use as VN Core's vn-core-encounter slices it (patterns: coding with its
#: display, and text where VN Core gives one): the main disease is CC (slice ChiefComplaint_CDBenhChinh,
#: "bệnh chính"), the other diseases CM, the admission diagnosis AD; no rank (VN Core forbids it:
#: the order of the list is the order of the diagnoses)
DIAGNOSIS_USE = {
    "CC": {"coding": [{"system": DIAG_ROLE, "code": "CC", "display": "Chief complaint"}], "text": "Chief complaint"},
    "CM": {"coding": [{"system": DIAG_ROLE, "code": "CM", "display": "Comorbidity diagnosis"}]},
    "AD": {"coding": [{"system": DIAG_ROLE, "code": "AD", "display": "Admission diagnosis"}], "text": "Admission diagnosis"},
}
#: the main disease's use before the project followed VN Core (read, never written)
MAIN_DIAGNOSIS_USES = ("CC", "DD")

#: identifier type of a facility's patient id (the profiles slice Patient.identifier on it)
MR = {"coding": [{"system": V2_0203, "code": "MR", "display": "Medical record number"}]}
#: v3 ActCode encounter classes the mappings use, with their displays
CLASS_DISPLAY = {"AMB": "ambulatory", "IMP": "inpatient encounter", "SS": "short stay"}
#: GIOI_TINH <-> Patient.gender
GENDER = {"1": "male", "2": "female", "3": "unknown"}
GENDER_BACK = {v: k for k, v in GENDER.items()}
