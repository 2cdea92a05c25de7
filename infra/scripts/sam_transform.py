"""Transforms the SAM template into the plain CloudFormation `sam deploy` would create, offline, and
prints it as JSON. Used by infra/checks/tests/sam_transform.rs.

Usage: python3 sam_transform.py TEMPLATE [PARAMETERS_JSON]

Needs the `aws-sam-translator` package (the library inside SAM CLI). `sam package` would replace each
local CodeUri with the S3 location of the uploaded zip; a placeholder location stands in for it here.
"""

import json
import os
import sys

try:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse
except ImportError:
    sys.exit("aws-sam-translator is not installed in this Python: pip install aws-sam-translator")


class NoManagedPolicies:
    """The template names no managed policies, so no lookup in IAM is needed."""

    def load(self):
        return {}


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    # The transform needs a region for ARNs, nothing else from AWS.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(sys.argv[1], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    parameters = json.loads(sys.argv[2]) if len(sys.argv) == 3 else {}
    placeholder = "s3://channel-manager-artifacts/bootstrap.zip"
    template.get("Globals", {}).get("Function", {})["CodeUri"] = placeholder
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in props:
            props["CodeUri"] = placeholder
    json.dump(transform(template, parameters, NoManagedPolicies()), sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main()
