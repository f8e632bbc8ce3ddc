from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Job(_message.Message):
    __slots__ = ("id", "kind", "payload_json", "priority", "source", "status", "attempts", "max_attempts", "result_json", "error", "worker_id", "queued_at", "started_at", "finished_at", "updated_at", "deadline_at", "lease_until", "provider", "model", "device_id", "run_after", "idempotency_key", "lease_token", "cancel_requested", "metrics_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_AT_FIELD_NUMBER: _ClassVar[int]
    LEASE_UNTIL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_AFTER_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    METRICS_JSON_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    payload_json: str
    priority: int
    source: str
    status: str
    attempts: int
    max_attempts: int
    result_json: str
    error: str
    worker_id: str
    queued_at: str
    started_at: str
    finished_at: str
    updated_at: str
    deadline_at: str
    lease_until: str
    provider: str
    model: str
    device_id: str
    run_after: str
    idempotency_key: str
    lease_token: str
    cancel_requested: bool
    metrics_json: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., payload_json: _Optional[str] = ..., priority: _Optional[int] = ..., source: _Optional[str] = ..., status: _Optional[str] = ..., attempts: _Optional[int] = ..., max_attempts: _Optional[int] = ..., result_json: _Optional[str] = ..., error: _Optional[str] = ..., worker_id: _Optional[str] = ..., queued_at: _Optional[str] = ..., started_at: _Optional[str] = ..., finished_at: _Optional[str] = ..., updated_at: _Optional[str] = ..., deadline_at: _Optional[str] = ..., lease_until: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., device_id: _Optional[str] = ..., run_after: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., lease_token: _Optional[str] = ..., cancel_requested: _Optional[bool] = ..., metrics_json: _Optional[str] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("kind", "payload_json", "priority", "source", "max_attempts", "deadline_at", "idempotency_key", "run_after", "provider", "model", "device_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_AT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    RUN_AFTER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    payload_json: str
    priority: int
    source: str
    max_attempts: int
    deadline_at: str
    idempotency_key: str
    run_after: str
    provider: str
    model: str
    device_id: str
    def __init__(self, kind: _Optional[str] = ..., payload_json: _Optional[str] = ..., priority: _Optional[int] = ..., source: _Optional[str] = ..., max_attempts: _Optional[int] = ..., deadline_at: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., run_after: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., device_id: _Optional[str] = ...) -> None: ...

class SubmitJobResponse(_message.Message):
    __slots__ = ("job_id", "status", "created")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: str
    created: bool
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[str] = ..., created: _Optional[bool] = ...) -> None: ...

class SubmitJobsRequest(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[SubmitJobRequest]
    def __init__(self, jobs: _Optional[_Iterable[_Union[SubmitJobRequest, _Mapping]]] = ...) -> None: ...

class SubmitJobsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[SubmitJobResponse]
    def __init__(self, jobs: _Optional[_Iterable[_Union[SubmitJobResponse, _Mapping]]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("status", "kind", "source", "limit", "cursor")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    status: str
    kind: str
    source: str
    limit: int
    cursor: str
    def __init__(self, status: _Optional[str] = ..., kind: _Optional[str] = ..., source: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_cursor")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_cursor: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class StreamJobRequest(_message.Message):
    __slots__ = ("job_id", "last_event_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    last_event_id: int
    def __init__(self, job_id: _Optional[str] = ..., last_event_id: _Optional[int] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("id", "job_id", "type", "data_json", "created_at", "job")
    ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    id: int
    job_id: str
    type: str
    data_json: str
    created_at: str
    job: Job
    def __init__(self, id: _Optional[int] = ..., job_id: _Optional[str] = ..., type: _Optional[str] = ..., data_json: _Optional[str] = ..., created_at: _Optional[str] = ..., job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class WorkerInfo(_message.Message):
    __slots__ = ("id", "name", "platform", "arch", "host", "tags", "kinds")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    ARCH_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    platform: str
    arch: str
    host: str
    tags: _containers.ScalarMap[str, str]
    kinds: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., platform: _Optional[str] = ..., arch: _Optional[str] = ..., host: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., kinds: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterWorkerRequest(_message.Message):
    __slots__ = ("worker",)
    WORKER_FIELD_NUMBER: _ClassVar[int]
    worker: WorkerInfo
    def __init__(self, worker: _Optional[_Union[WorkerInfo, _Mapping]] = ...) -> None: ...

class RegisterWorkerResponse(_message.Message):
    __slots__ = ("ok", "worker_id")
    OK_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    worker_id: str
    def __init__(self, ok: _Optional[bool] = ..., worker_id: _Optional[str] = ...) -> None: ...

class ClaimJobRequest(_message.Message):
    __slots__ = ("worker_id", "kinds", "lease_seconds", "max_jobs", "wait_seconds")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_JOBS_FIELD_NUMBER: _ClassVar[int]
    WAIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    kinds: _containers.RepeatedScalarFieldContainer[str]
    lease_seconds: int
    max_jobs: int
    wait_seconds: float
    def __init__(self, worker_id: _Optional[str] = ..., kinds: _Optional[_Iterable[str]] = ..., lease_seconds: _Optional[int] = ..., max_jobs: _Optional[int] = ..., wait_seconds: _Optional[float] = ...) -> None: ...

class ClaimJobResponse(_message.Message):
    __slots__ = ("job", "found", "jobs")
    JOB_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    job: Job
    found: bool
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., found: _Optional[bool] = ..., jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("worker_id", "job_id", "extend_seconds", "lease_token")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    EXTEND_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    job_id: str
    extend_seconds: int
    lease_token: str
    def __init__(self, worker_id: _Optional[str] = ..., job_id: _Optional[str] = ..., extend_seconds: _Optional[int] = ..., lease_token: _Optional[str] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("ok", "canceled", "lease_until")
    OK_FIELD_NUMBER: _ClassVar[int]
    CANCELED_FIELD_NUMBER: _ClassVar[int]
    LEASE_UNTIL_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    canceled: bool
    lease_until: str
    def __init__(self, ok: _Optional[bool] = ..., canceled: _Optional[bool] = ..., lease_until: _Optional[str] = ...) -> None: ...

class CompleteJobRequest(_message.Message):
    __slots__ = ("worker_id", "job_id", "result_json", "metrics_json", "lease_token", "progress_json")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    METRICS_JSON_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_JSON_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    job_id: str
    result_json: str
    metrics_json: str
    lease_token: str
    progress_json: str
    def __init__(self, worker_id: _Optional[str] = ..., job_id: _Optional[str] = ..., result_json: _Optional[str] = ..., metrics_json: _Optional[str] = ..., lease_token: _Optional[str] = ..., progress_json: _Optional[str] = ...) -> None: ...

class CompleteJobResponse(_message.Message):
    __slots__ = ("ok", "status")
    OK_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    status: str
    def __init__(self, ok: _Optional[bool] = ..., status: _Optional[str] = ...) -> None: ...

class CompleteJobsRequest(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[CompleteJobRequest]
    def __init__(self, jobs: _Optional[_Iterable[_Union[CompleteJobRequest, _Mapping]]] = ...) -> None: ...

class CompleteJobsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CompleteJobResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[CompleteJobResponse, _Mapping]]] = ...) -> None: ...

class FailJobRequest(_message.Message):
    __slots__ = ("worker_id", "job_id", "error", "metrics_json", "lease_token", "retryable", "release", "retry_after_seconds")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    METRICS_JSON_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    job_id: str
    error: str
    metrics_json: str
    lease_token: str
    retryable: bool
    release: bool
    retry_after_seconds: float
    def __init__(self, worker_id: _Optional[str] = ..., job_id: _Optional[str] = ..., error: _Optional[str] = ..., metrics_json: _Optional[str] = ..., lease_token: _Optional[str] = ..., retryable: _Optional[bool] = ..., release: _Optional[bool] = ..., retry_after_seconds: _Optional[float] = ...) -> None: ...

class FailJobResponse(_message.Message):
    __slots__ = ("ok", "status", "run_after")
    OK_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RUN_AFTER_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    status: str
    run_after: str
    def __init__(self, ok: _Optional[bool] = ..., status: _Optional[str] = ..., run_after: _Optional[str] = ...) -> None: ...

class ReportMetricsRequest(_message.Message):
    __slots__ = ("worker_id", "device_id", "metrics_json")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    METRICS_JSON_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    device_id: str
    metrics_json: str
    def __init__(self, worker_id: _Optional[str] = ..., device_id: _Optional[str] = ..., metrics_json: _Optional[str] = ...) -> None: ...

class ReportMetricsResponse(_message.Message):
    __slots__ = ("ok",)
    OK_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    def __init__(self, ok: _Optional[bool] = ...) -> None: ...

class ReportBenchmarkRequest(_message.Message):
    __slots__ = ("worker_id", "job_id", "device_id", "provider", "model", "task_type", "tokens_in", "tokens_out", "latency_ms", "tps", "ok", "error")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_IN_FIELD_NUMBER: _ClassVar[int]
    TOKENS_OUT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    TPS_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    job_id: str
    device_id: str
    provider: str
    model: str
    task_type: str
    tokens_in: int
    tokens_out: int
    latency_ms: float
    tps: float
    ok: bool
    error: str
    def __init__(self, worker_id: _Optional[str] = ..., job_id: _Optional[str] = ..., device_id: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., task_type: _Optional[str] = ..., tokens_in: _Optional[int] = ..., tokens_out: _Optional[int] = ..., latency_ms: _Optional[float] = ..., tps: _Optional[float] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class ReportBenchmarkResponse(_message.Message):
    __slots__ = ("ok",)
    OK_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    def __init__(self, ok: _Optional[bool] = ...) -> None: ...

class ReportProgressRequest(_message.Message):
    __slots__ = ("worker_id", "job_id", "lease_token", "data_json")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    job_id: str
    lease_token: str
    data_json: str
    def __init__(self, worker_id: _Optional[str] = ..., job_id: _Optional[str] = ..., lease_token: _Optional[str] = ..., data_json: _Optional[str] = ...) -> None: ...

class ReportProgressResponse(_message.Message):
    __slots__ = ("ok", "event_id", "canceled", "error")
    OK_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CANCELED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    event_id: int
    canceled: bool
    error: str
    def __init__(self, ok: _Optional[bool] = ..., event_id: _Optional[int] = ..., canceled: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class ReportProgressesRequest(_message.Message):
    __slots__ = ("reports",)
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[ReportProgressRequest]
    def __init__(self, reports: _Optional[_Iterable[_Union[ReportProgressRequest, _Mapping]]] = ...) -> None: ...

class ReportProgressesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ReportProgressResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[ReportProgressResponse, _Mapping]]] = ...) -> None: ...

class LlmRequestRequest(_message.Message):
    __slots__ = ("request_json",)
    REQUEST_JSON_FIELD_NUMBER: _ClassVar[int]
    request_json: str
    def __init__(self, request_json: _Optional[str] = ...) -> None: ...

class LlmRequestResponse(_message.Message):
    __slots__ = ("job_id", "provider", "kind", "model", "device_id", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    provider: str
    kind: str
    model: str
    device_id: str
    reason: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, job_id: _Optional[str] = ..., provider: _Optional[str] = ..., kind: _Optional[str] = ..., model: _Optional[str] = ..., device_id: _Optional[str] = ..., reason: _Optional[_Iterable[str]] = ...) -> None: ...

class MarkDeviceOfflineRequest(_message.Message):
    __slots__ = ("device_id", "reason", "worker_id")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    reason: str
    worker_id: str
    def __init__(self, device_id: _Optional[str] = ..., reason: _Optional[str] = ..., worker_id: _Optional[str] = ...) -> None: ...

class MarkDeviceOfflineResponse(_message.Message):
    __slots__ = ("ok",)
    OK_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    def __init__(self, ok: _Optional[bool] = ...) -> None: ...

class ListDevicesRequest(_message.Message):
    __slots__ = ("online_only",)
    ONLINE_ONLY_FIELD_NUMBER: _ClassVar[int]
    online_only: bool
    def __init__(self, online_only: _Optional[bool] = ...) -> None: ...

class ListDevicesResponse(_message.Message):
    __slots__ = ("devices_json",)
    DEVICES_JSON_FIELD_NUMBER: _ClassVar[int]
    devices_json: str
    def __init__(self, devices_json: _Optional[str] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models_json",)
    MODELS_JSON_FIELD_NUMBER: _ClassVar[int]
    models_json: str
    def __init__(self, models_json: _Optional[str] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StatusSnapshot(_message.Message):
    __slots__ = ("snapshot_json",)
    SNAPSHOT_JSON_FIELD_NUMBER: _ClassVar[int]
    snapshot_json: str
    def __init__(self, snapshot_json: _Optional[str] = ...) -> None: ...
