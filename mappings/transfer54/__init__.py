"""The national 54-field transfer dataset (liên thông 54 thông số): definition, checks, XML form.

The field list and code tables live in fields.json / codes.json so that the schema, the
validator, the generators and (later) the FHIR mapping all read one definition.
"""
from .fields import BY_NAME, CODE_TABLES, FIELDS, CodeTable, Field
from .validate import Problem, validate
from .xml_form import XmlFormError, parse_xml, write_xml

__all__ = ["BY_NAME", "CODE_TABLES", "FIELDS", "CodeTable", "Field", "Problem", "validate",
           "XmlFormError", "parse_xml", "write_xml"]
