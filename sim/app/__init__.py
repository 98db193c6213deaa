"""The local interactive app: a scenario's levers as form controls, each change answered by a batch run in-process.

``session`` holds what the app computes (no web framework there, so it is tested alone), ``variants`` writes an
option into the scenario file as a named variant, ``figures`` is the thin adapter over the charts, ``page`` is the
Solara user interface and ``server`` starts it on localhost.
"""
