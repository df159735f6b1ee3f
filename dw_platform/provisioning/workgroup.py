"""The Athena workgroup: enforced result location and encryption, and a per-query scan cutoff."""

from typing import Any

from botocore.exceptions import ClientError

from dw_platform.aws.errors import error_code
from dw_platform.provisioning.managed_resource import AwsClients, Observed, Resource
from dw_platform.provisioning.naming import StackNames

GIB = 1024**3


class Workgroup(Resource):
    kind = "athena workgroup"

    def __init__(self, names: StackNames, clients: AwsClients) -> None:
        super().__init__(names, clients, names.workgroup)

    @property
    def athena(self) -> Any:
        return self.client("athena")

    def _results(self) -> dict[str, Any]:
        return {
            "OutputLocation": f"s3://{self.names.results_bucket}/",
            "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
        }

    def desired(self) -> dict[str, Any]:
        return {
            "ResultConfiguration": self._results(),
            # Clients cannot override the location or the encryption.
            "EnforceWorkGroupConfiguration": True,
            "PublishCloudWatchMetricsEnabled": True,
            "BytesScannedCutoffPerQuery": self.names.warehouse.query_cutoff_gib * GIB,
        }

    def read(self) -> Observed | None:
        try:
            workgroup = self.athena.get_work_group(WorkGroup=self.name).get("WorkGroup")
        except ClientError as error:
            if error_code(error) == "InvalidRequestException" and "not found" in str(error).lower():
                return None
            raise
        if not workgroup:
            return None
        tags = self.athena.list_tags_for_resource(ResourceARN=self.names.workgroup_arn)["Tags"]
        return Observed(workgroup.get("Configuration", {}), owner=self.names.owner(tags))

    def create(self) -> None:
        self.athena.create_work_group(
            Name=self.name,
            Configuration=self.desired(),
            Description=f"Queries of stack {self.names.stack} of the {self.names.warehouse.name} warehouse",
            Tags=self.names.tag_list,
        )

    def update(self, fields: list[str]) -> None:
        desired = self.desired()
        self.athena.update_work_group(
            WorkGroup=self.name,
            ConfigurationUpdates={
                "EnforceWorkGroupConfiguration": desired["EnforceWorkGroupConfiguration"],
                "PublishCloudWatchMetricsEnabled": desired["PublishCloudWatchMetricsEnabled"],
                "BytesScannedCutoffPerQuery": desired["BytesScannedCutoffPerQuery"],
                "ResultConfigurationUpdates": self._results(),
            },
        )

    def delete(self) -> None:
        self.athena.delete_work_group(WorkGroup=self.name, RecursiveDeleteOption=True)
