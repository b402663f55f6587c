"""Runs inside the turnkey-api-key-stamper venv: stamps each case with the official stamper.

stdin: {"cases": [{"public": hex, "private": hex, "body": str}]}; stdout: {"stamps": [str]}.
"""

import json
import sys

from turnkey_api_key_stamper import ApiKeyStamper, ApiKeyStamperConfig

request = json.load(sys.stdin)
stamps = []
for case in request["cases"]:
    config = ApiKeyStamperConfig(api_public_key=case["public"], api_private_key=case["private"])
    stamps.append(ApiKeyStamper(config).stamp(case["body"]).stamp_header_value)
json.dump({"stamps": stamps}, sys.stdout)
