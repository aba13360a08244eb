//! An in-memory Kubernetes API server behind a `tower::Service`, for `kube::Client::new`.
//!
//! It keeps objects, answers discovery, list (with label selectors), get, create,
//! server-side apply, merge and JSON patches, replace (with resourceVersion checks),
//! delete and watch (replaying from a resourceVersion), and records every request so
//! tests can assert on the exact calls and bodies meshcd makes.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::StreamExt as _;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::convert::Kind;

type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

/// A kind the fake serves.
#[derive(Debug, Clone)]
pub struct Resource {
    pub group: String,
    pub versions: Vec<String>,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

/// One request as the API server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// The path, without the query.
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub content_type: Option<String>,
    pub body: Option<Value>,
}

impl Recorded {
    /// `PATCH /api/v1/namespaces/shop` style, for compact assertions.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    group: String,
    plural: String,
    namespace: Option<String>,
    name: String,
}

struct Event {
    resource_version: u64,
    kind: &'static str,
    key: Key,
    object: Value,
}

struct Watcher {
    group: String,
    plural: String,
    namespace: Option<String>,
    selector: Option<String>,
    version: String,
    sender: mpsc::UnboundedSender<Bytes>,
}

#[derive(Default)]
struct State {
    resources: Vec<Resource>,
    objects: BTreeMap<Key, Value>,
    events: Vec<Event>,
    watchers: Vec<Watcher>,
    requests: Vec<Recorded>,
    resource_version: u64,
    /// TokenReview answers by token: (namespace, service account), or unauthenticated.
    tokens: BTreeMap<String, (String, String)>,
    /// What RBAC allows, as SubjectAccessReview answers it.
    grants: Vec<Grant>,
}

/// One RBAC permission: `user` may `verb` `resource` of `group`, in `namespace` or (with
/// `None`) cluster-wide, as a (Cluster)RoleBinding would grant it.
#[derive(Debug, Clone)]
struct Grant {
    user: String,
    group: String,
    resource: String,
    verb: String,
    namespace: Option<String>,
}

#[derive(Clone, Default)]
pub struct FakeApi {
    state: Arc<Mutex<State>>,
}

fn core(kind: &str, plural: &str, namespaced: bool) -> Resource {
    Resource {
        group: String::new(),
        versions: vec!["v1".into()],
        kind: kind.into(),
        plural: plural.into(),
        namespaced,
    }
}

fn grouped(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Resource {
    Resource {
        group: group.into(),
        versions: vec![version.into()],
        kind: kind.into(),
        plural: plural.into(),
        namespaced,
    }
}

impl FakeApi {
    /// A cluster with the built-in kinds meshcd uses and meshcd's CRDs installed (the
    /// versions `schemas/crds/` serves).
    pub fn new() -> Self {
        let mut resources = vec![
            core("Namespace", "namespaces", false),
            core("Pod", "pods", true),
            core("Service", "services", true),
            core("Secret", "secrets", true),
            core("Event", "events", true),
            core("ConfigMap", "configmaps", true),
            grouped("events.k8s.io", "v1", "Event", "events", true),
            grouped(
                "discovery.k8s.io",
                "v1",
                "EndpointSlice",
                "endpointslices",
                true,
            ),
            grouped("coordination.k8s.io", "v1", "Lease", "leases", true),
            grouped(
                "authentication.k8s.io",
                "v1",
                "TokenReview",
                "tokenreviews",
                false,
            ),
            grouped(
                "authorization.k8s.io",
                "v1",
                "SubjectAccessReview",
                "subjectaccessreviews",
                false,
            ),
            grouped(
                "admissionregistration.k8s.io",
                "v1",
                "MutatingWebhookConfiguration",
                "mutatingwebhookconfigurations",
                false,
            ),
        ];
        for kind in Kind::ALL {
            let version = kind.versions().last().unwrap();
            resources.push(grouped(
                kind.group(),
                version,
                kind.name(),
                kind.plural(),
                kind.namespaced(),
            ));
        }
        let api = FakeApi::default();
        api.state.lock().unwrap().resources = resources;
        api
    }

    /// Replaces the versions served for `kind` (an older cluster, another mesh's CRDs).
    pub fn serve(&self, kind: Kind, versions: &[&str]) {
        let mut state = self.state.lock().unwrap();
        state
            .resources
            .retain(|r| r.kind != kind.name() || r.group != kind.group());
        if !versions.is_empty() {
            state.resources.push(Resource {
                group: kind.group().into(),
                versions: versions.iter().map(|v| v.to_string()).collect(),
                kind: kind.name().into(),
                plural: kind.plural().into(),
                namespaced: kind.namespaced(),
            });
        }
    }

    pub fn client(&self) -> kube::Client {
        kube::Client::new(self.clone(), "default")
    }

    /// A token that TokenReview authenticates as this service account.
    pub fn accept_token(&self, token: &str, namespace: &str, service_account: &str) {
        self.state
            .lock()
            .unwrap()
            .tokens
            .insert(token.into(), (namespace.into(), service_account.into()));
    }

    /// Lets `user` (e.g. `system:serviceaccount:ops:alice`) `verb` `resource` of `group`,
    /// in `namespace` or cluster-wide: what SubjectAccessReview then allows.
    pub fn grant(
        &self,
        user: &str,
        (group, resource): (&str, &str),
        verb: &str,
        namespace: Option<&str>,
    ) {
        self.state.lock().unwrap().grants.push(Grant {
            user: user.into(),
            group: group.into(),
            resource: resource.into(),
            verb: verb.into(),
            namespace: namespace.map(str::to_string),
        });
    }

    /// Stores an object as another client (kubectl, a controller) would.
    pub fn insert(&self, object: Value) {
        let mut state = self.state.lock().unwrap();
        let key = state.key_of(&object).expect("a served kind");
        let kind = if state.objects.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        state.store(key, object, kind);
    }

    /// Changes a stored object in place, as a hand edit would.
    pub fn edit(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        edit: impl FnOnce(&mut Value),
    ) {
        let mut state = self.state.lock().unwrap();
        let key = state
            .key_of(&json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}}))
            .expect("a served kind");
        let mut object = state.objects.get(&key).cloned().expect("the object exists");
        edit(&mut object);
        state.store(key, object, "MODIFIED");
    }

    pub fn remove(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) {
        let mut state = self.state.lock().unwrap();
        let key = state
            .key_of(&json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}}))
            .expect("a served kind");
        if let Some(object) = state.objects.remove(&key) {
            state.notify(key, object, "DELETED");
        }
    }

    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let state = self.state.lock().unwrap();
        let key = state.key_of(&json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}}))?;
        state.objects.get(&key).cloned()
    }

    /// Every request so far, and forgets them.
    pub fn take_requests(&self) -> Vec<Recorded> {
        std::mem::take(&mut self.state.lock().unwrap().requests)
    }

    /// The requests that changed something (not GET), and forgets every request.
    pub fn take_writes(&self) -> Vec<Recorded> {
        self.take_requests()
            .into_iter()
            .filter(|request| request.method != "GET")
            .collect()
    }
}

impl State {
    fn resource(&self, group: &str, plural: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.plural == plural)
    }

    fn key_of(&self, object: &Value) -> Option<Key> {
        let api_version = object["apiVersion"].as_str()?;
        let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
        let kind = object["kind"].as_str()?;
        let resource = self
            .resources
            .iter()
            .find(|r| r.group == group && r.kind == kind)?;
        Some(Key {
            group: group.into(),
            plural: resource.plural.clone(),
            namespace: if resource.namespaced {
                object["metadata"]["namespace"].as_str().map(str::to_string)
            } else {
                None
            },
            name: object["metadata"]["name"].as_str()?.to_string(),
        })
    }

    fn store(&mut self, key: Key, mut object: Value, kind: &'static str) {
        self.resource_version += 1;
        let metadata = &mut object["metadata"];
        metadata["resourceVersion"] = json!(self.resource_version.to_string());
        if metadata.get("uid").is_none() {
            metadata["uid"] = json!(format!("uid-{}", self.resource_version));
        }
        self.objects.insert(key.clone(), object.clone());
        self.notify(key, object, kind);
    }

    fn notify(&mut self, key: Key, object: Value, kind: &'static str) {
        if kind == "DELETED" {
            self.resource_version += 1;
        }
        let resource_version = self.resource_version;
        self.watchers.retain(|watcher| {
            if !watches(watcher, &key, &object) {
                return true;
            }
            let object = with_version(&object, &watcher.group, &watcher.version);
            let line = format!("{}\n", json!({"type": kind, "object": object}));
            watcher.sender.send(Bytes::from(line)).is_ok()
        });
        self.events.push(Event {
            resource_version,
            kind,
            key,
            object,
        });
    }
}

fn watches(watcher: &Watcher, key: &Key, object: &Value) -> bool {
    watcher.group == key.group
        && watcher.plural == key.plural
        && (watcher.namespace.is_none() || watcher.namespace == key.namespace)
        && selected(object, watcher.selector.as_deref())
}

/// Equality selectors (`a=b,c=d`), which is all meshcd uses.
fn selected(object: &Value, selector: Option<&str>) -> bool {
    let Some(selector) = selector.filter(|s| !s.is_empty()) else {
        return true;
    };
    selector.split(',').all(|term| match term.split_once('=') {
        Some((label, value)) => object["metadata"]["labels"][label].as_str() == Some(value),
        None => object["metadata"]["labels"].get(term).is_some(),
    })
}

fn with_version(object: &Value, group: &str, version: &str) -> Value {
    let mut object = object.clone();
    object["apiVersion"] = json!(if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    });
    object
}

/// RFC 7386 merge; `apply` mode (server-side apply with force, as far as the SMI CRDs
/// need it: maps merge, lists are replaced) is the same without deleting on null.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (field, value) in patch {
                if value.is_null() {
                    target.remove(field);
                } else {
                    merge(target.entry(field.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// RFC 6902 `add` and `replace`: what the injector and the webhook configuration use.
pub fn json_patch(target: &mut Value, operations: &Value) -> Result<(), String> {
    for operation in operations.as_array().ok_or("a JSON patch is a list")? {
        let path = operation["path"].as_str().ok_or("operation without path")?;
        let (parent, last) = path.rsplit_once('/').ok_or("bad path")?;
        let last = last.replace("~1", "/").replace("~0", "~");
        let parent = target
            .pointer_mut(parent)
            .ok_or_else(|| format!("no {parent}"))?;
        match operation["op"].as_str() {
            Some("add") | Some("replace") => match parent {
                Value::Array(items) if last == "-" => items.push(operation["value"].clone()),
                Value::Array(items) => {
                    let index: usize = last.parse().map_err(|_| "bad index")?;
                    if operation["op"] == "add" {
                        items.insert(index, operation["value"].clone());
                    } else {
                        items[index] = operation["value"].clone();
                    }
                }
                Value::Object(map) => {
                    map.insert(last, operation["value"].clone());
                }
                _ => return Err(format!("cannot add under {path}")),
            },
            other => return Err(format!("unsupported op {other:?}")),
        }
    }
    Ok(())
}

fn respond(status: StatusCode, body: Value) -> Response<ResponseBody> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())).boxed_unsync())
        .unwrap()
}

fn failure(code: StatusCode, reason: &str, message: String) -> Response<ResponseBody> {
    respond(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "reason": reason, "message": message, "code": code.as_u16()}),
    )
}

impl tower::Service<Request<kube::client::Body>> for FakeApi {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<kube::client::Body>) -> Self::Future {
        let state = self.state.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = body.collect_bytes().await.unwrap_or_default();
            let body: Option<Value> = if bytes.is_empty() {
                None
            } else {
                Some(serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                    Value::String(String::from_utf8_lossy(&bytes).into_owned())
                }))
            };
            let query: BTreeMap<String, String> = parts
                .uri
                .query()
                .map(form_urlencoded_pairs)
                .unwrap_or_default();
            let recorded = Recorded {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                query,
                content_type: parts
                    .headers
                    .get("content-type")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_string),
                body,
            };
            let mut state = state.lock().unwrap();
            state.requests.push(recorded.clone());
            Ok(handle(&mut state, &parts.method, recorded))
        })
    }
}

fn form_urlencoded_pairs(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                index += 3;
            }
            b'+' => {
                out.push(b' ');
                index += 1;
            }
            byte => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn handle(state: &mut State, method: &Method, request: Recorded) -> Response<ResponseBody> {
    let path = request.path.clone();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segments.as_slice() {
        ["apis"] => return respond(StatusCode::OK, group_list(state)),
        ["apis", group, version] => {
            return respond(StatusCode::OK, resource_list(state, group, version));
        }
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => {
            return failure(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("no route {}", request.path),
            );
        }
    };
    let (namespace, plural, name, subresource) = match rest {
        ["namespaces", name] if group.is_empty() => (None, "namespaces", Some(*name), None),
        ["namespaces", namespace, plural] => (Some(*namespace), *plural, None, None),
        ["namespaces", namespace, plural, name] => (Some(*namespace), *plural, Some(*name), None),
        ["namespaces", namespace, plural, name, sub] => {
            (Some(*namespace), *plural, Some(*name), Some(*sub))
        }
        [plural] => (None, *plural, None, None),
        [plural, name] => (None, *plural, Some(*name), None),
        [plural, name, sub] => (None, *plural, Some(*name), Some(*sub)),
        _ => {
            return failure(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("no route {}", request.path),
            );
        }
    };
    let Some(resource) = state.resource(group, plural).cloned() else {
        return failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "the server could not find the requested resource ({})",
                request.path
            ),
        );
    };
    if !resource.versions.iter().any(|v| v == version) {
        return failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{group}/{version} is not served"),
        );
    }
    let namespace = namespace
        .filter(|_| resource.namespaced)
        .map(str::to_string);
    let Some(name) = name else {
        return collection(state, method, &resource, version, namespace, request);
    };
    let key = Key {
        group: group.into(),
        plural: plural.into(),
        namespace: namespace.clone(),
        name: name.into(),
    };
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let not_found = || {
        failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{plural} \"{name}\" not found"),
        )
    };
    match *method {
        Method::GET => match state.objects.get(&key) {
            Some(object) => respond(StatusCode::OK, with_version(object, group, version)),
            None => not_found(),
        },
        Method::DELETE => match state.objects.remove(&key) {
            Some(object) => {
                state.notify(key, object.clone(), "DELETED");
                respond(StatusCode::OK, with_version(&object, group, version))
            }
            None => not_found(),
        },
        Method::PATCH => {
            let patch = request.body.clone().unwrap_or(Value::Null);
            let content_type = request.content_type.clone().unwrap_or_default();
            let existing = state.objects.get(&key).cloned();
            let mut object = match (&existing, content_type.as_str()) {
                (Some(object), _) => object.clone(),
                (None, "application/apply-patch+yaml") => json!({
                    "apiVersion": api_version, "kind": resource.kind,
                    "metadata": {"name": name},
                }),
                (None, _) => return not_found(),
            };
            match content_type.as_str() {
                "application/apply-patch+yaml" => {
                    if !request.query.contains_key("fieldManager") {
                        return failure(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            "PATCH with apply requires a fieldManager".into(),
                        );
                    }
                    if subresource == Some("status") {
                        merge(&mut object["status"], &patch["status"]);
                    } else {
                        let mut patch = patch.clone();
                        if let Some(map) = patch.as_object_mut() {
                            map.remove("status");
                        }
                        merge(&mut object, &patch);
                    }
                }
                "application/merge-patch+json" => merge(&mut object, &patch),
                "application/json-patch+json" => {
                    if let Err(error) = json_patch(&mut object, &patch) {
                        return failure(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", error);
                    }
                }
                other => {
                    return failure(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "UnsupportedMediaType",
                        other.to_string(),
                    );
                }
            }
            if let Some(namespace) = &namespace {
                object["metadata"]["namespace"] = json!(namespace);
            }
            object["apiVersion"] = json!(api_version);
            let kind = if existing.is_some() {
                "MODIFIED"
            } else {
                "ADDED"
            };
            state.store(key.clone(), object, kind);
            respond(
                StatusCode::OK,
                with_version(&state.objects[&key], group, version),
            )
        }
        Method::PUT => {
            let object = request.body.clone().unwrap_or(Value::Null);
            let Some(existing) = state.objects.get(&key) else {
                return not_found();
            };
            if object["metadata"]["resourceVersion"] != existing["metadata"]["resourceVersion"] {
                return failure(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!(
                        "Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
                    ),
                );
            }
            state.store(key.clone(), object, "MODIFIED");
            respond(
                StatusCode::OK,
                with_version(&state.objects[&key], group, version),
            )
        }
        _ => failure(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            method.to_string(),
        ),
    }
}

fn collection(
    state: &mut State,
    method: &Method,
    resource: &Resource,
    version: &str,
    namespace: Option<String>,
    request: Recorded,
) -> Response<ResponseBody> {
    let group = resource.group.clone();
    match *method {
        Method::POST if resource.plural == "tokenreviews" => {
            let token = request
                .body
                .as_ref()
                .and_then(|b| b["spec"]["token"].as_str())
                .unwrap_or("");
            let status = match state.tokens.get(token) {
                Some((namespace, account)) => json!({
                    "authenticated": true,
                    "user": {"username": format!("system:serviceaccount:{namespace}:{account}")},
                    "audiences": request.body.as_ref().map(|b| b["spec"]["audiences"].clone()).unwrap_or(Value::Null),
                }),
                None => json!({"authenticated": false, "error": "invalid bearer token"}),
            };
            let mut review = request.body.clone().unwrap_or(json!({}));
            review["status"] = status;
            respond(StatusCode::CREATED, review)
        }
        Method::POST if resource.plural == "subjectaccessreviews" => {
            access_review(&state.grants, request.body.clone().unwrap_or(json!({})))
        }
        Method::POST => {
            let mut object = request.body.clone().unwrap_or(Value::Null);
            if let Some(namespace) = &namespace {
                object["metadata"]["namespace"] = json!(namespace);
            }
            let Some(key) = state.key_of(&object) else {
                return failure(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "not an object of this kind".into(),
                );
            };
            if state.objects.contains_key(&key) {
                return failure(
                    StatusCode::CONFLICT,
                    "AlreadyExists",
                    format!("{} \"{}\" already exists", resource.plural, key.name),
                );
            }
            state.store(key.clone(), object, "ADDED");
            respond(
                StatusCode::CREATED,
                with_version(&state.objects[&key], &group, version),
            )
        }
        Method::GET if request.query.get("watch").map(String::as_str) == Some("true") => {
            let (sender, receiver) = mpsc::unbounded_channel::<Bytes>();
            let since: u64 = request
                .query
                .get("resourceVersion")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let watcher = Watcher {
                group: group.clone(),
                plural: resource.plural.clone(),
                namespace,
                selector: request.query.get("labelSelector").cloned(),
                version: version.to_string(),
                sender,
            };
            for event in state.events.iter().filter(|e| e.resource_version > since) {
                if watches(&watcher, &event.key, &event.object) {
                    let object = with_version(&event.object, &group, version);
                    let line = format!("{}\n", json!({"type": event.kind, "object": object}));
                    let _ = watcher.sender.send(Bytes::from(line));
                }
            }
            state.watchers.push(watcher);
            let stream = tokio_stream::wrappers::UnboundedReceiverStream::new(receiver)
                .map(|bytes| Ok::<_, Infallible>(Frame::data(bytes)));
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .body(StreamBody::new(stream).boxed_unsync())
                .unwrap()
        }
        Method::GET => {
            let selector = request.query.get("labelSelector").cloned();
            let items: Vec<Value> = state
                .objects
                .iter()
                .filter(|(key, object)| {
                    key.group == group
                        && key.plural == resource.plural
                        && (namespace.is_none() || key.namespace == namespace)
                        && selected(object, selector.as_deref())
                })
                .map(|(_, object)| with_version(object, &group, version))
                .collect();
            let api_version = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            respond(
                StatusCode::OK,
                json!({
                    "apiVersion": api_version,
                    "kind": format!("{}List", resource.kind),
                    "metadata": {"resourceVersion": state.resource_version.to_string()},
                    "items": items,
                }),
            )
        }
        _ => failure(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            method.to_string(),
        ),
    }
}

fn group_list(state: &State) -> Value {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for resource in state.resources.iter().filter(|r| !r.group.is_empty()) {
        let versions = groups.entry(&resource.group).or_default();
        for version in &resource.versions {
            if !versions.contains(&version.as_str()) {
                versions.push(version);
            }
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
                .collect();
            json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(state: &State, group: &str, version: &str) -> Value {
    let resources: Vec<Value> = state
        .resources
        .iter()
        .filter(|r| r.group == group && r.versions.iter().any(|v| v == version))
        .flat_map(|r| {
            let main = json!({"name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced,
                              "kind": r.kind, "verbs": ["get", "list", "watch", "create", "patch", "delete"]});
            let status = json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced,
                                "kind": r.kind, "verbs": ["get", "patch"]});
            [main, status]
        })
        .collect();
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{group}/{version}"), "resources": resources})
}

/// A SubjectAccessReview answered from the grants: allowed when one names the user, the
/// group, the resource and the verb, in the review's namespace or cluster-wide.
fn access_review(grants: &[Grant], mut review: Value) -> Response<ResponseBody> {
    let spec = &review["spec"];
    let attributes = &spec["resourceAttributes"];
    let text = |value: &Value| value.as_str().unwrap_or("").to_string();
    let allowed = grants.iter().any(|grant| {
        grant.user == text(&spec["user"])
            && grant.group == text(&attributes["group"])
            && grant.resource == text(&attributes["resource"])
            && grant.verb == text(&attributes["verb"])
            && grant
                .namespace
                .as_ref()
                .is_none_or(|namespace| *namespace == text(&attributes["namespace"]))
    });
    review["status"] = json!({"allowed": allowed});
    respond(StatusCode::CREATED, review)
}
