"""S3 buckets: public access blocked, default encryption, TLS required, lifecycle rules."""

import json
from typing import Any

from botocore.exceptions import ClientError

from dw_platform.aws.errors import error_code
from dw_platform.provisioning.managed_resource import (
    AwsClients,
    Observed,
    ProvisioningError,
    Resource,
)
from dw_platform.provisioning.naming import StackNames
from dw_platform.provisioning.policies import deny_insecure_transport

BLOCK_ALL_PUBLIC_ACCESS = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
DEFAULT_ENCRYPTION = {
    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
    "BucketKeyEnabled": True,
}
ABORT_UPLOADS = {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
DELETE_PAGE = 1000  # DeleteObjects' limit
MISSING = (
    "NoSuchTagSet",
    "NoSuchPublicAccessBlockConfiguration",
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
)


class Bucket(Resource):
    kind = "s3 bucket"

    def __init__(
        self, names: StackNames, clients: AwsClients, name: str, *, expire_after_days: int | None = None
    ) -> None:
        super().__init__(names, clients, name)
        self.expire_after_days = expire_after_days

    @property
    def s3(self) -> Any:
        return self.client("s3")

    def desired(self) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "ID": "dw-housekeeping",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            **ABORT_UPLOADS,
        }
        if self.expire_after_days is not None:
            rule["Expiration"] = {"Days": self.expire_after_days}
        return {
            "public_access_block": BLOCK_ALL_PUBLIC_ACCESS,
            "encryption": DEFAULT_ENCRYPTION,
            "policy": deny_insecure_transport(self.names, self.name),
            "lifecycle": {"dw-housekeeping": rule},
        }

    def _get(self, call: str, pick: str) -> Any:
        try:
            return getattr(self.s3, call)(Bucket=self.name)[pick]
        except ClientError as error:
            if error_code(error) in MISSING:
                return None
            raise

    def read(self) -> Observed | None:
        try:
            self.s3.head_bucket(Bucket=self.name)
        except ClientError as error:
            if error_code(error) in ("404", "NoSuchBucket"):
                return None
            if error_code(error) in ("403", "AccessDenied"):
                raise ProvisioningError(
                    f"bucket {self.name} exists but this account may not use it (bucket names are global): "
                    "choose another with DW_DATA_BUCKET / DW_RESULTS_BUCKET"
                ) from error
            raise
        tags = {t["Key"]: t["Value"] for t in self._get("get_bucket_tagging", "TagSet") or []}
        encryption = self._get("get_bucket_encryption", "ServerSideEncryptionConfiguration")
        policy = self._get("get_bucket_policy", "Policy")
        rules = self._get("get_bucket_lifecycle_configuration", "Rules") or []
        config = {
            "public_access_block": self._get("get_public_access_block", "PublicAccessBlockConfiguration"),
            "encryption": encryption["Rules"][0] if encryption else None,
            "policy": json.loads(policy) if policy else None,
            "lifecycle": {rule.get("ID", ""): rule for rule in rules},
        }
        return Observed(config, owner=self.names.owner(tags))

    def create(self) -> None:
        location = (
            {}
            if self.names.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": self.names.region}}
        )
        self.s3.create_bucket(Bucket=self.name, **location)
        self.s3.get_waiter("bucket_exists").wait(Bucket=self.name)
        tags = self.names.tag_list
        self.s3.put_bucket_tagging(Bucket=self.name, Tagging={"TagSet": tags})
        self.update(sorted(self.desired()))

    def update(self, fields: list[str]) -> None:
        desired = self.desired()
        if "public_access_block" in fields:
            self.s3.put_public_access_block(
                Bucket=self.name, PublicAccessBlockConfiguration=desired["public_access_block"]
            )
        if "encryption" in fields:
            self.s3.put_bucket_encryption(
                Bucket=self.name, ServerSideEncryptionConfiguration={"Rules": [desired["encryption"]]}
            )
        if "policy" in fields:
            self.s3.put_bucket_policy(Bucket=self.name, Policy=json.dumps(desired["policy"]))
        if "lifecycle" in fields:
            self.s3.put_bucket_lifecycle_configuration(
                Bucket=self.name, LifecycleConfiguration={"Rules": list(desired["lifecycle"].values())}
            )

    def is_empty(self) -> bool:
        listed = self.s3.list_object_versions(Bucket=self.name, MaxKeys=1)
        return not listed.get("Versions") and not listed.get("DeleteMarkers")

    def destroy_blocker(self) -> str | None:
        if self.names.warehouse.is_dev or self.is_empty():
            return None
        return (
            f"bucket {self.name} holds objects; destroy deletes non-empty buckets only for a warehouse "
            "declared is_dev=True. Empty it yourself (or keep it) before destroying"
        )

    def delete(self) -> None:
        pages = self.s3.get_paginator("list_object_versions").paginate(Bucket=self.name)
        for page in pages:
            objects = [
                {"Key": o["Key"], "VersionId": o["VersionId"]}
                for o in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            for start in range(0, len(objects), DELETE_PAGE):
                response = self.s3.delete_objects(
                    Bucket=self.name, Delete={"Objects": objects[start : start + DELETE_PAGE], "Quiet": True}
                )
                if errors := response.get("Errors"):
                    raise ProvisioningError(
                        f"could not empty bucket {self.name}: {len(errors)} objects refused, e.g. "
                        f"{errors[0]['Key']}: {errors[0].get('Code')} {errors[0].get('Message', '')}"
                    )
        self.s3.delete_bucket(Bucket=self.name)
