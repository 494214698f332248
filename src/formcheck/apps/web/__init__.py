"""`formcheck serve`: the local web app. See app.py (routes), store.py (the data folder), db.py (the history),
jobs.py (the queue), worker.py (one analysis), uploads.py, security.py, trends.py, importer.py."""
