"""The resource types this server stores. Adding a type is one line here.

Every other part (routes, validation, search parameters, CapabilityStatement) reads this set.
The list covers the four integration types and every type the transfer-dataset and
insurance-table mappings produce.
"""

from __future__ import annotations

RESOURCE_TYPES: frozenset[str] = frozenset(
    {
        # integration core
        "Patient", "Encounter", "Observation", "DocumentReference",
        # identity and organisation
        "Organization", "Practitioner", "PractitionerRole", "Location", "RelatedPerson",
        # coverage and cost
        "Coverage", "Claim", "ChargeItem", "Account",
        # clinical
        "Condition", "Procedure", "MedicationRequest", "MedicationAdministration", "MedicationDispense",
        "Medication", "ServiceRequest", "DiagnosticReport", "ClinicalImpression", "AllergyIntolerance",
        "Immunization", "CarePlan", "EpisodeOfCare", "Specimen", "Device", "SupplyDelivery",
        # documents and scheduling
        "Composition", "Binary", "Appointment", "Provenance", "Basic",
        # security: the audit trail (written by the server only)
        "AuditEvent",
    }
)
