"""Read models: queries across the domain that answer a lead's questions, as plain dataclasses.

- `field`: the field report of one workspace (chat `field`, the web dashboard).

Reports read ownership, nudges and gestures and change nothing; rendering them is the faces' and handlers' job.
"""
