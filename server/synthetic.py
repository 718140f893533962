"""Deterministic Vietnamese sample data: patients, encounters, observations, documents.

Used to write ``examples/`` and to seed benchmarks. Same seed, same data, so examples
and benchmark figures can be reproduced. Identifier systems are the project's own.
"""

from __future__ import annotations

import base64
import random
import uuid
from typing import Any, Iterator

from mappings.fhir_terms import COND_CATEGORY, DIAGNOSIS_USE, ICD10, LOINC, OBS_CATEGORY, UCUM
from profiles import SID

SYS_CCCD = SID["cccd"]
SYS_BHYT = SID["the-bhyt"]
SYS_FACILITY = SID["ma-cskcb"]

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE_M = ["Văn", "Hữu", "Đức", "Công", "Quang", "Minh"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Thanh", "Mai", "Kim"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đức", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Quân", "Sơn", "Thắng", "Tuấn", "Việt"]
GIVEN_F = ["Anh", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Ngân", "Nhung", "Phương", "Thảo", "Trang", "Yến"]
CITIES = [("Hà Nội", "01"), ("Hải Phòng", "31"), ("Đà Nẵng", "48"), ("Thừa Thiên Huế", "46"), ("Cần Thơ", "92"), ("Nghệ An", "40"), ("Thái Nguyên", "19"), ("Khánh Hòa", "56")]
#: main diseases of the synthetic episodes (ICD-10)
DISEASES = [("J18.9", "Viêm phổi"), ("I10", "Tăng huyết áp vô căn"), ("E11.9", "Đái tháo đường type 2"), ("A09", "Tiêu chảy nhiễm khuẩn")]
VITALS = [("29463-7", "Body weight", "kg", 40, 90), ("8480-6", "Systolic blood pressure", "mm[Hg]", 95, 170), ("8867-4", "Heart rate", "/min", 55, 120), ("8310-5", "Body temperature", "Cel", 36, 40)]


class SampleData:
    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def patient(self, n: int) -> dict[str, Any]:
        r = self.rng
        male = r.random() < 0.5
        city, province = r.choice(CITIES)
        year = r.randint(1935, 2023)
        family = r.choice(FAMILY)
        given = [r.choice(MIDDLE_M if male else MIDDLE_F), r.choice(GIVEN_M if male else GIVEN_F)]
        return {
            "resourceType": "Patient",
            "identifier": [
                {"system": SYS_CCCD, "value": f"0{province}{r.randint(0, 9)}{year % 100:02d}{n:06d}"[:12].rjust(12, "0")},
                {"system": SYS_BHYT, "value": f"{r.choice(['DN', 'HT', 'GD', 'TE', 'CN'])}{r.randint(1, 5)}{province}{n:010d}"},
            ],
            "active": True,
            "name": [{"use": "official", "text": " ".join([family, *given]), "family": family, "given": given}],
            "telecom": [{"system": "phone", "value": f"09{r.randint(10_000_000, 99_999_999)}", "use": "mobile"}],
            "gender": "male" if male else "female",
            "birthDate": f"{year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
            "address": [{"use": "home", "city": city, "country": "VN"}],
        }

    def encounter(self, patient_ref: str, facility: str, ma_lk: str | None = None, main_disease: str | None = None) -> dict[str, Any]:
        """An Encounter; with ``ma_lk`` it carries the episode link code the core profile asks for,
        with ``main_disease`` (a Condition's reference) the main disease VN Core's Encounter asks for."""
        r = self.rng
        day = f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        inpatient = r.random() < 0.3
        encounter: dict[str, Any] = {"resourceType": "Encounter"}
        if ma_lk is not None:
            encounter["identifier"] = [{"system": f"{SID['ma-lk']}/{facility}", "value": ma_lk}]
        out = {
            **encounter,
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP" if inpatient else "AMB"},
            "subject": {"reference": patient_ref},
            "period": {"start": f"{day}T08:{r.randint(0, 59):02d}:00+07:00", "end": f"{day}T{r.randint(10, 17)}:00:00+07:00"},
            "serviceProvider": {"identifier": {"system": SYS_FACILITY, "value": facility}},
        }
        if main_disease is not None:
            out["diagnosis"] = [{"condition": {"reference": main_disease}, "use": DIAGNOSIS_USE["CC"]}]
        return out

    def condition(self, patient_ref: str, encounter_ref: str) -> dict[str, Any]:
        """An encounter diagnosis (VN Core's vn-core-condition-encounter-diagnosis)."""
        code, text = self.rng.choice(DISEASES)
        return {
            "resourceType": "Condition",
            "category": [{"coding": [{"system": COND_CATEGORY, "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}]}],
            "code": {"coding": [{"system": ICD10, "code": code}], "text": text},
            "subject": {"reference": patient_ref},
            "encounter": {"reference": encounter_ref},
        }

    def observation(self, patient_ref: str, encounter_ref: str) -> dict[str, Any]:
        r = self.rng
        code, display, unit, lo, hi = r.choice(VITALS)
        value = round(r.uniform(lo, hi), 1)
        return {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": {"reference": patient_ref},
            "encounter": {"reference": encounter_ref},
            "effectiveDateTime": "2025-06-01T09:00:00+07:00",
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        }

    def document(self, patient_ref: str, encounter_ref: str, text: str) -> dict[str, Any]:
        return {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": {"coding": [{"system": LOINC, "code": "57133-1", "display": "Referral note"}], "text": "Giấy chuyển tuyến"},
            "subject": {"reference": patient_ref},
            "context": {"encounter": [{"reference": encounter_ref}]},
            "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": base64.b64encode(text.encode()).decode()}}],
        }

    def patient_bundle(self, n: int, observations: int = 3, *, fixed_ids: bool = False) -> dict[str, Any]:
        """A transaction for one patient: the Patient (conditional on its citizen id), one
        Encounter with its main disease (a Condition), ``observations`` Observations and a
        DocumentReference.

        With ``fixed_ids`` every entry is a PUT with a deterministic id, so loading the
        Bundle again changes nothing (the examples ``make run`` loads at each start)."""
        patient = self.patient(n)
        p_url, e_url, c_url = (f"urn:uuid:{self._uuid()}" for _ in range(3))
        cccd = patient["identifier"][0]["value"]
        facility = f"{self.rng.randint(1, 96):02d}{self.rng.randint(1, 999):03d}"
        entries = [
            {"fullUrl": p_url, "resource": patient, "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={SYS_CCCD}|{cccd}"}},
            {"fullUrl": e_url, "resource": self.encounter(p_url, facility, f"LK{cccd}", c_url), "request": {"method": "POST", "url": "Encounter"}},
            {"fullUrl": c_url, "resource": self.condition(p_url, e_url), "request": {"method": "POST", "url": "Condition"}},
        ]
        for _ in range(observations):
            entries.append({"fullUrl": f"urn:uuid:{self._uuid()}", "resource": self.observation(p_url, e_url), "request": {"method": "POST", "url": "Observation"}})
        name = patient["name"][0]["text"]
        entries.append({"fullUrl": f"urn:uuid:{self._uuid()}", "resource": self.document(p_url, e_url, f"Chuyển tuyến bệnh nhân {name}"), "request": {"method": "POST", "url": "DocumentReference"}})
        if fixed_ids:
            for k, e in enumerate(entries):
                rtype = e["resource"]["resourceType"]
                rid = f"example-{n + 1}-{rtype.lower()}-{k}"
                e["resource"]["id"] = rid
                e["request"] = {"method": "PUT", "url": f"{rtype}/{rid}"}
        return {"resourceType": "Bundle", "type": "transaction", "entry": entries}

    def resources(self, count: int) -> Iterator[dict[str, Any]]:
        """Standalone resources (Patients and Observations) for single-create benchmarks."""
        for n in range(count):
            if n % 2 == 0:
                yield self.patient(n)
            else:
                yield self.observation(f"Patient/{self._uuid()}", f"Encounter/{self._uuid()}")


#: the trends record's facilities: (MA_CSKCB, name), from the commune up to the province
TREND_FACILITIES = [("01820", "Trạm y tế xã Phú Lương"), ("01009", "Bệnh viện đa khoa huyện Thanh Oai"), ("01921", "Bệnh viện Đa khoa Hà Đông")]
#: repeated laboratory tests: LOINC, display, Vietnamese name, unit, reference low, high, first value, drift per episode
TREND_LABS = [
    ("2345-7", "Glucose [Moles/volume] in Serum or Plasma", "Glucose máu", "mmol/L", 3.9, 6.4, 9.2, -0.25),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "HbA1c", "%", 4.0, 6.0, 8.6, -0.18),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "Creatinin", "µmol/L", 62.0, 106.0, 92.0, 3.5),
]
#: the episodes: (months after the first, facility index, class, days, main ICD-10 and name)
TREND_EPISODES = [
    (0, 0, "AMB", 0, "E11.9", "Đái tháo đường týp 2 không biến chứng"),
    (2, 1, "AMB", 0, "E11.9", "Đái tháo đường týp 2 không biến chứng"),
    (5, 0, "AMB", 0, "I10", "Tăng huyết áp vô căn"),
    (8, 2, "IMP", 6, "J18.9", "Viêm phổi, không đặc hiệu"),
    (10, 1, "AMB", 0, "E11.9", "Đái tháo đường týp 2 không biến chứng"),
    (13, 0, "AMB", 0, "E11.9", "Đái tháo đường týp 2 không biến chứng"),
    (15, 2, "EMER", 0, "E11.65", "Đái tháo đường týp 2 có tăng đường huyết"),
    (16, 1, "IMP", 5, "E11.65", "Đái tháo đường týp 2 có tăng đường huyết"),
    (19, 0, "AMB", 0, "N18.3", "Bệnh thận mạn, giai đoạn 3"),
    (22, 1, "AMB", 0, "E11.9", "Đái tháo đường týp 2 không biến chứng"),
]
TREND_MEDICINES = [("Metformin 500mg", "2 viên/ngày"), ("Amlodipin 5mg", "1 viên/ngày")]
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def trends_bundle(seed: int = 2025, prefix: str = "example-trends", cccd: str = "001085012345") -> dict[str, Any]:
    """One patient's record over two years at three facilities, with repeated laboratory tests and
    vital signs: what the patient page's charts are for (``examples/core/patient-bundle-trends.json``
    and the page benchmark). About 200 resources, every entry a PUT with an id under ``prefix``."""
    from datetime import datetime, timedelta, timezone

    from mappings.national import LAB_CATEGORY, absent, facility
    from profiles import CS, EXT

    rng = random.Random(seed)
    zone = timezone(timedelta(hours=7))
    entries: list[dict[str, Any]] = []
    counter: dict[str, int] = {}

    def put(resource: dict[str, Any]) -> str:
        rtype = resource["resourceType"]
        counter[rtype] = counter.get(rtype, 0) + 1
        rid = f"{prefix}-{rtype.lower()}-{counter[rtype]}"
        resource["id"] = rid
        entries.append({"fullUrl": f"https://lienthong.dev/fhir/{rtype}/{rid}", "resource": resource, "request": {"method": "PUT", "url": f"{rtype}/{rid}"}})
        return f"{rtype}/{rid}"

    def at(t: datetime) -> str:
        return t.isoformat(timespec="seconds")

    patient = put({
        "resourceType": "Patient",
        "identifier": [{"system": SYS_CCCD, "value": cccd}, {"system": SYS_BHYT, "value": f"HT2{cccd[:2]}{cccd[-10:]}"}],
        "active": True,
        "name": [{"use": "official", "text": "Trần Văn Bình", "family": "Trần", "given": ["Văn", "Bình"]}],
        "gender": "male", "birthDate": "1958-03-14",
        "address": [{"use": "home", "text": "Xã Phú Lương, huyện Thanh Oai, Hà Nội", "city": "Hà Nội", "country": "VN"}],
    })
    subject = {"reference": patient}
    orgs = []
    for code, name in TREND_FACILITIES:
        org = facility(code)
        del org["_name"]
        org["name"] = name
        orgs.append(put(org))
    put({"resourceType": "Coverage", "status": "active", "subscriberId": f"HT2{cccd[:2]}{cccd[-10:]}", "beneficiary": subject,
         "period": {"start": "2024-01-01", "end": "2025-12-31"}, "payor": [{"display": "Bảo hiểm xã hội Việt Nam"}]})
    put({"resourceType": "AllergyIntolerance",  # what the page's header warns of
         "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
         "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed"}]},
         "category": ["medication"], "criticality": "high",
         "code": {"text": "Penicillin"}, "patient": subject, "recordedDate": "2024-01-08",
         "reaction": [{"manifestation": [{"text": "Nổi mày đay, khó thở"}]}]})
    start = datetime(2024, 1, 8, 8, 0, tzinfo=zone)
    weight = 72.0
    for n, (month, fac, cls, days, icd, dx_name) in enumerate(TREND_EPISODES):
        begin = start + timedelta(days=month * 30 + rng.randint(0, 6), minutes=rng.randint(0, 120))
        end = begin + (timedelta(days=days, hours=rng.randint(1, 6)) if days else timedelta(hours=rng.randint(1, 4)))
        enc_id = f"Encounter/{prefix}-encounter-{n + 1}"
        enc_ref = {"reference": enc_id}
        conditions = [(icd, dx_name, "CC")] + [(c, t, "CM") for c, t in (("I10", "Tăng huyết áp vô căn"), ("E11.9", "Đái tháo đường týp 2 không biến chứng"), ("N18.3", "Bệnh thận mạn, giai đoạn 3")) if c != icd and (c != "N18.3" or month >= 16)]
        diagnosis = []
        cond_refs = []
        for k, (c, text, use) in enumerate(conditions):
            cond_refs.append((f"Condition/{prefix}-condition-{counter.get('Condition', 0) + k + 1}", use))
        for ref, use in cond_refs:
            diagnosis.append({"condition": {"reference": ref}, "use": DIAGNOSIS_USE[use]})
        encounter: dict[str, Any] = {
            "resourceType": "Encounter",
            "identifier": [{"system": f"{SID['ma-lk']}/{TREND_FACILITIES[fac][0]}", "value": f"LK{TREND_FACILITIES[fac][0]}{begin:%y%m%d}{n:03d}"}],
            "status": "finished",
            "class": {"system": V3_ACT, "code": cls},
            "subject": subject,
            "period": {"start": at(begin), "end": at(end)},
            "diagnosis": diagnosis,
            "serviceProvider": {"reference": orgs[fac]},
        }
        if cls == "IMP":
            result = "2" if icd == "J18.9" else "1"
            encounter["extension"] = [{"url": EXT["t54-treatment-result"], "valueCoding": {"system": CS["t54-treatment-result"], "code": result}}]
            encounter["hospitalization"] = {"dischargeDisposition": {"coding": [{"system": CS["t54-discharge-type"], "code": "1"}]}}
        if cls == "EMER":
            encounter["hospitalization"] = {"dischargeDisposition": {"coding": [{"system": CS["t54-discharge-type"], "code": "2"}]}}
        assert put(encounter) == enc_id
        for c, text, _ in conditions:
            put({"resourceType": "Condition",
                 "category": [{"coding": [{"system": COND_CATEGORY, "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}]}],
                 "code": {"coding": [{"system": ICD10, "code": c}], "text": text}, "subject": subject, "encounter": enc_ref})
        # laboratory: each test once an episode, glucose every day of a stay; VN Core's laboratory
        # result names its order (absent here, as in the insurance tables) and its procedure
        lab_procedure = put({"resourceType": "Procedure", "status": "completed", "code": {"text": "Xét nghiệm sinh hóa máu"},
                             "subject": subject, "encounter": enc_ref, "performedDateTime": at(begin + timedelta(hours=1))})
        for code, display, name, unit, low, high, first, drift in TREND_LABS:
            times = [begin + timedelta(hours=1)] + ([begin + timedelta(days=d, hours=1) for d in range(1, days)] if code == "2345-7" else [])
            for k, t in enumerate(times):
                value = first + drift * n + rng.uniform(-0.6, 0.6) * (high - low) / 6 + (3.5 if icd == "E11.65" and code == "2345-7" and k < 2 else 0)
                value = round(value, 1)
                obs: dict[str, Any] = {
                    "resourceType": "Observation", "status": "final", "category": [LAB_CATEGORY],
                    "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": name},
                    "subject": subject, "encounter": enc_ref, "effectiveDateTime": at(t),
                    "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": {"µmol/L": "umol/L"}.get(unit, unit)},
                    "referenceRange": [{"low": {"value": low, "unit": unit}, "high": {"value": high, "unit": unit}}],
                    "basedOn": [absent()], "partOf": [{"reference": lab_procedure}],
                }
                if fac != 0:  # the commune station's results come without a flag
                    flag = "H" if value > high else "L" if value < low else "N"
                    obs["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": flag}]}]
                put(obs)
        # vital signs: at admission, and every day of a stay
        for d in range(max(days, 1)):
            t = begin + timedelta(days=d, minutes=30)
            weight = round(weight + rng.uniform(-0.8, 0.5), 1)
            systolic, diastolic = rng.randint(128, 162) - n, rng.randint(78, 96) - n // 2
            signs = [("8867-4", "Heart rate", rng.randint(68, 96) + (14 if icd == "J18.9" else 0), "/min"),
                     ("8310-5", "Body temperature", round(rng.uniform(36.4, 37.2) + (1.6 if icd == "J18.9" and d < 3 else 0), 1), "Cel")]
            if d == 0:
                signs.insert(0, ("29463-7", "Body weight", weight, "kg"))
            for code, display, value, unit in signs:
                put({"resourceType": "Observation", "status": "final",
                     "category": [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs"}]}],
                     "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                     "subject": subject, "encounter": enc_ref, "effectiveDateTime": at(t),
                     "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}})
            put({"resourceType": "Observation", "status": "final",
                 "category": [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs"}]}],
                 "code": {"coding": [{"system": LOINC, "code": "85354-6", "display": "Blood pressure panel with all children optional"}]},
                 "subject": subject, "encounter": enc_ref, "effectiveDateTime": at(t),
                 "component": [{"code": {"coding": [{"system": LOINC, "code": c, "display": label}]},
                                "valueQuantity": {"value": v, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}}
                               for c, label, v in (("8480-6", "Systolic blood pressure", systolic), ("8462-4", "Diastolic blood pressure", diastolic))]})
        medicines = TREND_MEDICINES + ([("Ceftriaxon 1g", "2 lọ/ngày, tiêm tĩnh mạch")] if icd == "J18.9" else [("Insulin glargine 100UI/ml", "10 UI tiêm dưới da buổi tối")] if icd == "E11.65" else [])
        for text, dose in medicines:
            put({"resourceType": "MedicationRequest", "status": "completed", "intent": "order",
                 "medicationCodeableConcept": {"text": text}, "subject": subject, "encounter": enc_ref,
                 "authoredOn": at(begin + timedelta(hours=2)), "dosageInstruction": [{"text": dose}]})
        if cls != "AMB":
            for text in (("Chụp X-quang ngực thẳng", "Điện tim thường") if cls == "IMP" else ("Điện tim thường",)):
                put({"resourceType": "Procedure", "status": "completed", "code": {"text": text}, "subject": subject,
                     "encounter": enc_ref, "performedDateTime": at(begin + timedelta(hours=3))})
        if cls == "IMP":
            summary = (f"GIẤY RA VIỆN\nHọ tên: Trần Văn Bình\nVào viện: {begin:%d/%m/%Y}  Ra viện: {end:%d/%m/%Y}\n"
                       f"Chẩn đoán: {icd} {dx_name}\nPhương pháp điều trị: Nội khoa\nLời dặn: tái khám sau 2 tuần, kiểm tra đường huyết.")
            put({"resourceType": "DocumentReference", "status": "current",
                 "type": {"coding": [{"system": LOINC, "code": "18842-5", "display": "Discharge summary"}]},
                 "subject": subject, "date": at(end),
                 "context": {"encounter": [enc_ref], "period": {"start": at(begin), "end": at(end)}},
                 "description": dx_name,
                 "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "language": "vi", "title": "Giấy ra viện",
                                             "data": base64.b64encode(summary.encode()).decode()}}]})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def write_examples(folder: str, count: int = 3, seed: int = 2025) -> list[str]:
    """Write ``count`` patient transaction Bundles as ``examples``; returns the file names."""
    from pathlib import Path

    from . import jsonio

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    data = SampleData(seed)
    names = []
    for n in range(count):
        name = f"patient-bundle-{n + 1}.json"
        (out / name).write_bytes(jsonio.dumps(data.patient_bundle(n, fixed_ids=True), pretty=True) + b"\n")
        names.append(name)
    name = "patient-bundle-trends.json"
    (out / name).write_bytes(jsonio.dumps(trends_bundle(seed), pretty=True) + b"\n")
    return [*names, name]


if __name__ == "__main__":  # python -m server.synthetic examples/core
    import sys

    print("\n".join(write_examples(sys.argv[1] if len(sys.argv) > 1 else "examples/core")))
