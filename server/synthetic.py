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
    return names


if __name__ == "__main__":  # python -m server.synthetic examples/core
    import sys

    print("\n".join(write_examples(sys.argv[1] if len(sys.argv) > 1 else "examples/core")))
