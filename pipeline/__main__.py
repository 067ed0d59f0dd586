"""``python -m pipeline`` runs the ``alliances`` command line."""
from pipeline.cli import main

main()
