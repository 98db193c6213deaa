"""``python -m sim``: the same command line as the ``escalation`` script."""

from sim.cli import main

if __name__ == "__main__":
    main()
