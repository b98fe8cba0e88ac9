"""The live preview: one document's web pages served on 127.0.0.1 and built again at
every save (``make_report.py preview``)."""
