"""``lienthong import``: folders of insurance envelopes and transfer records into the store.

- ``discovery``: which files a run looks at (files and folders, recursively, in a stable order).
- ``recognition``: what a file is, by its content (never its extension).
- ``targets``: where episodes go (the store in-process, or a server over HTTP), one transaction each.
- ``run``: the import run itself (streaming, episode by episode, nothing stops it but the end).
- ``report``: the facts of a run, for a person (text) and for a program (JSON).
- ``quarantine``: failed episodes copied out, byte for byte, so they can be repaired and re-imported.
"""
