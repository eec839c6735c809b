from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SnapshotRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class ChangesRequest(_message.Message):
    __slots__ = ("node_id", "epoch", "version")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    epoch: str
    version: int
    def __init__(self, node_id: _Optional[str] = ..., epoch: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("node_id", "epoch", "version")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    epoch: str
    version: int
    def __init__(self, node_id: _Optional[str] = ..., epoch: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class Changes(_message.Message):
    __slots__ = ("unchanged", "snapshot", "changes", "more")
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    unchanged: bool
    snapshot: SealedSnapshot
    changes: _containers.RepeatedCompositeFieldContainer[SealedChanges]
    more: bool
    def __init__(self, unchanged: _Optional[bool] = ..., snapshot: _Optional[_Union[SealedSnapshot, _Mapping]] = ..., changes: _Optional[_Iterable[_Union[SealedChanges, _Mapping]]] = ..., more: _Optional[bool] = ...) -> None: ...

class Update(_message.Message):
    __slots__ = ("snapshot", "changes")
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    snapshot: SealedSnapshot
    changes: SealedChanges
    def __init__(self, snapshot: _Optional[_Union[SealedSnapshot, _Mapping]] = ..., changes: _Optional[_Union[SealedChanges, _Mapping]] = ...) -> None: ...

class SealedChanges(_message.Message):
    __slots__ = ("epoch", "from_version", "version", "sealed")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    epoch: str
    from_version: int
    version: int
    sealed: bytes
    def __init__(self, epoch: _Optional[str] = ..., from_version: _Optional[int] = ..., version: _Optional[int] = ..., sealed: _Optional[bytes] = ...) -> None: ...

class ChangeSet(_message.Message):
    __slots__ = ("epoch", "from_version", "version", "users", "tokens", "channels", "deleted_users", "deleted_token_hashes", "deleted_channels", "options_changed", "options", "applied")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AppliedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    DELETED_USERS_FIELD_NUMBER: _ClassVar[int]
    DELETED_TOKEN_HASHES_FIELD_NUMBER: _ClassVar[int]
    DELETED_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    epoch: str
    from_version: int
    version: int
    users: _containers.RepeatedCompositeFieldContainer[User]
    tokens: _containers.RepeatedCompositeFieldContainer[Token]
    channels: _containers.RepeatedCompositeFieldContainer[Channel]
    deleted_users: _containers.RepeatedScalarFieldContainer[int]
    deleted_token_hashes: _containers.RepeatedScalarFieldContainer[str]
    deleted_channels: _containers.RepeatedScalarFieldContainer[int]
    options_changed: bool
    options: _containers.ScalarMap[str, str]
    applied: _containers.ScalarMap[str, int]
    def __init__(self, epoch: _Optional[str] = ..., from_version: _Optional[int] = ..., version: _Optional[int] = ..., users: _Optional[_Iterable[_Union[User, _Mapping]]] = ..., tokens: _Optional[_Iterable[_Union[Token, _Mapping]]] = ..., channels: _Optional[_Iterable[_Union[Channel, _Mapping]]] = ..., deleted_users: _Optional[_Iterable[int]] = ..., deleted_token_hashes: _Optional[_Iterable[str]] = ..., deleted_channels: _Optional[_Iterable[int]] = ..., options_changed: _Optional[bool] = ..., options: _Optional[_Mapping[str, str]] = ..., applied: _Optional[_Mapping[str, int]] = ...) -> None: ...

class SealedSnapshot(_message.Message):
    __slots__ = ("epoch", "version", "sealed")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    epoch: str
    version: int
    sealed: bytes
    def __init__(self, epoch: _Optional[str] = ..., version: _Optional[int] = ..., sealed: _Optional[bytes] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("epoch", "version", "users", "tokens", "channels", "options", "applied", "token_table", "user_table")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AppliedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_TABLE_FIELD_NUMBER: _ClassVar[int]
    USER_TABLE_FIELD_NUMBER: _ClassVar[int]
    epoch: str
    version: int
    users: _containers.RepeatedCompositeFieldContainer[User]
    tokens: _containers.RepeatedCompositeFieldContainer[Token]
    channels: _containers.RepeatedCompositeFieldContainer[Channel]
    options: _containers.ScalarMap[str, str]
    applied: _containers.ScalarMap[str, int]
    token_table: bytes
    user_table: bytes
    def __init__(self, epoch: _Optional[str] = ..., version: _Optional[int] = ..., users: _Optional[_Iterable[_Union[User, _Mapping]]] = ..., tokens: _Optional[_Iterable[_Union[Token, _Mapping]]] = ..., channels: _Optional[_Iterable[_Union[Channel, _Mapping]]] = ..., options: _Optional[_Mapping[str, str]] = ..., applied: _Optional[_Mapping[str, int]] = ..., token_table: _Optional[bytes] = ..., user_table: _Optional[bytes] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("id", "username", "group", "status", "role", "quota", "used_quota", "rpm_limit", "tpm_limit", "max_parallel_requests")
    ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    USED_QUOTA_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    id: int
    username: str
    group: str
    status: int
    role: int
    quota: int
    used_quota: int
    rpm_limit: int
    tpm_limit: int
    max_parallel_requests: int
    def __init__(self, id: _Optional[int] = ..., username: _Optional[str] = ..., group: _Optional[str] = ..., status: _Optional[int] = ..., role: _Optional[int] = ..., quota: _Optional[int] = ..., used_quota: _Optional[int] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ..., max_parallel_requests: _Optional[int] = ...) -> None: ...

class Token(_message.Message):
    __slots__ = ("id", "user_id", "name", "status", "expired_time", "remain_quota", "unlimited_quota", "used_quota", "models", "subnet", "key_hash", "rpm_limit", "tpm_limit", "max_parallel_requests")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_TIME_FIELD_NUMBER: _ClassVar[int]
    REMAIN_QUOTA_FIELD_NUMBER: _ClassVar[int]
    UNLIMITED_QUOTA_FIELD_NUMBER: _ClassVar[int]
    USED_QUOTA_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    SUBNET_FIELD_NUMBER: _ClassVar[int]
    KEY_HASH_FIELD_NUMBER: _ClassVar[int]
    RPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TPM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    id: int
    user_id: int
    name: str
    status: int
    expired_time: int
    remain_quota: int
    unlimited_quota: bool
    used_quota: int
    models: str
    subnet: str
    key_hash: str
    rpm_limit: int
    tpm_limit: int
    max_parallel_requests: int
    def __init__(self, id: _Optional[int] = ..., user_id: _Optional[int] = ..., name: _Optional[str] = ..., status: _Optional[int] = ..., expired_time: _Optional[int] = ..., remain_quota: _Optional[int] = ..., unlimited_quota: _Optional[bool] = ..., used_quota: _Optional[int] = ..., models: _Optional[str] = ..., subnet: _Optional[str] = ..., key_hash: _Optional[str] = ..., rpm_limit: _Optional[int] = ..., tpm_limit: _Optional[int] = ..., max_parallel_requests: _Optional[int] = ...) -> None: ...

class Channel(_message.Message):
    __slots__ = ("id", "type", "key", "status", "name", "weight", "priority", "base_url", "config", "models", "groups", "model_mapping", "system_prompt")
    class ConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ModelMappingEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    MODEL_MAPPING_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    id: int
    type: int
    key: str
    status: int
    name: str
    weight: int
    priority: int
    base_url: str
    config: _containers.ScalarMap[str, str]
    models: str
    groups: str
    model_mapping: _containers.ScalarMap[str, str]
    system_prompt: str
    def __init__(self, id: _Optional[int] = ..., type: _Optional[int] = ..., key: _Optional[str] = ..., status: _Optional[int] = ..., name: _Optional[str] = ..., weight: _Optional[int] = ..., priority: _Optional[int] = ..., base_url: _Optional[str] = ..., config: _Optional[_Mapping[str, str]] = ..., models: _Optional[str] = ..., groups: _Optional[str] = ..., model_mapping: _Optional[_Mapping[str, str]] = ..., system_prompt: _Optional[str] = ...) -> None: ...

class Amount(_message.Message):
    __slots__ = ("id", "amount")
    ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    id: int
    amount: int
    def __init__(self, id: _Optional[int] = ..., amount: _Optional[int] = ...) -> None: ...

class ChannelStatus(_message.Message):
    __slots__ = ("id", "status", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: int
    status: int
    reason: str
    def __init__(self, id: _Optional[int] = ..., status: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("id", "token_spent", "user_spent", "user_used", "user_requests", "channel_used", "token_status", "channel_status", "logs")
    ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_SPENT_FIELD_NUMBER: _ClassVar[int]
    USER_SPENT_FIELD_NUMBER: _ClassVar[int]
    USER_USED_FIELD_NUMBER: _ClassVar[int]
    USER_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_USED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_STATUS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_STATUS_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    token_spent: _containers.RepeatedCompositeFieldContainer[Amount]
    user_spent: _containers.RepeatedCompositeFieldContainer[Amount]
    user_used: _containers.RepeatedCompositeFieldContainer[Amount]
    user_requests: _containers.RepeatedCompositeFieldContainer[Amount]
    channel_used: _containers.RepeatedCompositeFieldContainer[Amount]
    token_status: _containers.RepeatedCompositeFieldContainer[Amount]
    channel_status: _containers.RepeatedCompositeFieldContainer[ChannelStatus]
    logs: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, id: _Optional[str] = ..., token_spent: _Optional[_Iterable[_Union[Amount, _Mapping]]] = ..., user_spent: _Optional[_Iterable[_Union[Amount, _Mapping]]] = ..., user_used: _Optional[_Iterable[_Union[Amount, _Mapping]]] = ..., user_requests: _Optional[_Iterable[_Union[Amount, _Mapping]]] = ..., channel_used: _Optional[_Iterable[_Union[Amount, _Mapping]]] = ..., token_status: _Optional[_Iterable[_Union[Amount, _Mapping]]] = ..., channel_status: _Optional[_Iterable[_Union[ChannelStatus, _Mapping]]] = ..., logs: _Optional[_Iterable[bytes]] = ...) -> None: ...

class BatchAck(_message.Message):
    __slots__ = ("id", "duplicate")
    ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    duplicate: bool
    def __init__(self, id: _Optional[str] = ..., duplicate: _Optional[bool] = ...) -> None: ...
