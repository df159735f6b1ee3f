"""AWS errors in the platform's words: one line naming the operation, the code and what to do."""

from botocore.exceptions import BotoCoreError, ClientError

# What AWS answers when a stream, database, table or bucket the declaration implies does not exist.
NOT_FOUND_CODES = frozenset(
    {"ResourceNotFoundException", "EntityNotFoundException", "NoSuchBucket", "NoSuchKey", "404"}
)


def error_code(error: Exception) -> str:
    """The AWS error code of a failed call ("" for any other exception)."""
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def describe_aws_error(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, BotoCoreError):
        return str(error)  # no credentials, an endpoint that does not answer: already one line
    details = error.response.get("Error", {})
    code, message = details.get("Code", "?"), details.get("Message", "") or str(error)
    operation = error.operation_name
    if code in NOT_FOUND_CODES:
        return (
            f"{operation}: {message} ({code}); the AWS stack is not provisioned or lacks this resource: "
            "see `dw provision plan`, then `dw provision apply`"
        )
    return f"{operation} failed ({code}): {message}"
