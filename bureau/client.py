"""`python -m bureau.client`: the member uploader; the code lives in bureau_client.py,
a single stdlib + rich file that member systems copy (no Django needed)."""

from bureau_client import main

if __name__ == "__main__":
    raise SystemExit(main())
