"""Small family files the unit tests start from."""

SHA = "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76"  # Python-3.13.15.tar.xz
MINIMAL = f"""repository: owner/python
python:
  default: "3.13"
  versions:
    "3.13": {{version: 3.13.15, sha256: {SHA}}}
"""
