"""The FHIR R4 structure, compiled once from the R4 StructureDefinitions, and the walk it drives.

* :mod:`.compile` turns the definitions into ``data/r4-structure.json`` (run once, committed);
* :mod:`.table` reads that table (and the required bindings) into per-type metadata;
* :mod:`.formats` checks primitive values: the definitions' regexes, ranges, real dates;
* :mod:`.walk` validates a resource against it, reporting every issue with its path;
* :mod:`.messages` renders JSON values for issue texts;
* :mod:`.samples` generates valid resources from the table, for property tests.

``server.fhir.validation.validate_resource`` is the entry point the server uses.
"""
