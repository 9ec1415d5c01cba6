"""Lets ``python -m adhash_cli`` run the ``adhash`` command."""

from adhash_cli._entry import main

if __name__ == "__main__":
    main()
