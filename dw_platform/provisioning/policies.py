"""IAM policy documents, each scoped to the exact ARNs it needs.

No action wildcards (`glue:*`) and no `"Resource": "*"`: object ARNs end in `/*` only under a named
bucket and prefix. `wildcard_problems` states the rule so tests and reviews can check it.
"""

from collections.abc import Sequence
from typing import Any

from dw_platform.declaration.warehouse import TableKind
from dw_platform.lake.layout import delivery_write_prefixes
from dw_platform.provisioning.naming import StackNames

Document = dict[str, Any]
VERSION = "2012-10-17"


def _statement(sid: str, actions: Sequence[str], resources: Sequence[str], **extra: Any) -> Document:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": list(resources), **extra}


def firehose_trust_policy(names: StackNames) -> Document:
    """Only Firehose, acting for this account, may assume a delivery role."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "firehose.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": names.account}},
            }
        ],
    }


def firehose_delivery_policy(names: StackNames, table: str) -> Document:
    """Read one stream, write one table's prefix and error prefix, read one table's schema, write
    one log stream."""
    bucket = names.bucket_arn(names.data_bucket)
    prefixes = delivery_write_prefixes(names.database, table)
    return {
        "Version": VERSION,
        "Statement": [
            _statement(
                "ReadSourceStream",
                [
                    "kinesis:DescribeStream",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                ],
                [names.stream_arn(table)],
            ),
            _statement(
                "FindBucket",
                ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                [bucket],
            ),
            _statement(
                "WriteTablePrefixes",
                ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                [f"{bucket}/{prefix}*" for prefix in prefixes],
            ),
            _statement(
                "ReadTableSchema",
                ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
                [names.catalog_arn, names.database_arn, names.table_arn(table)],
            ),
            _statement("WriteDeliveryLogs", ["logs:PutLogEvents"], [names.log_stream_arn(table)]),
        ],
    }


def deny_insecure_transport(names: StackNames, bucket: str) -> Document:
    arn = names.bucket_arn(bucket)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def run_worker_policy(names: StackNames) -> Document:
    """What Dagster's run workers need: the stack's own lake (read, write, delete for compaction's
    cleanup: only under its root, so another stack's objects in a shared bucket stay out of reach),
    the catalog's own database and tables, the workgroup, and putting events into the streams."""
    warehouse = names.warehouse
    data, results = names.bucket_arn(names.data_bucket), names.bucket_arn(names.results_bucket)
    streaming = [t.name for t in warehouse.tables_of(TableKind.STREAMING)]
    # Athena UNLOAD re-compactions create and drop `<table>__late_<hour>` staging tables.
    tables = [names.table_arn(t) for t in warehouse.table_names]
    tables += [names.table_arn(f"{t}__late_*") for t in streaming]
    statements = [
        _statement(
            "FindBuckets",
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            [data, results],
        ),
        _statement(
            "ReadWriteLakeAndResults",
            [
                "s3:AbortMultipartUpload",
                "s3:DeleteObject",
                "s3:GetObject",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
            ],
            [f"{data}/{names.lake_root}*", f"{results}/*"],
        ),
        _statement(
            "ManageCatalog",
            [
                "glue:BatchCreatePartition",
                "glue:BatchGetPartition",
                "glue:BatchUpdatePartition",
                "glue:CreateTable",
                "glue:DeleteTable",
                "glue:GetDatabase",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:GetTable",
                "glue:GetTables",
                "glue:UpdatePartition",
                "glue:UpdateTable",
            ],
            [names.catalog_arn, names.database_arn, *tables],
        ),
        _statement(
            "QueryInWorkgroup",
            [
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:GetWorkGroup",
                "athena:StartQueryExecution",
                "athena:StopQueryExecution",
            ],
            [names.workgroup_arn],
        ),
    ]
    if streaming:
        statements.append(
            _statement(
                "PutEvents",
                [
                    "kinesis:DescribeStreamSummary",
                    # dw replay reads the stream back to finish a replay that stopped after putting
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                    "kinesis:PutRecord",
                    "kinesis:PutRecords",
                ],
                [names.stream_arn(t) for t in streaming],
            )
        )
    return {"Version": VERSION, "Statement": statements}


def wildcard_problems(document: Document) -> list[str]:
    """Allow statements granting every action of a service or every resource."""
    problems = []
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement.get("Resource", [])
        resources = resources if isinstance(resources, list) else [resources]
        problems += [f"action {a!r}" for a in actions if "*" in a]
        problems += [f"resource {r!r}" for r in resources if r == "*" or r.split(":")[-1] in ("*", "")]
    return problems
