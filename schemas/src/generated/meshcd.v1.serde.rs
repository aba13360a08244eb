impl serde::Serialize for Ack {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.version.is_empty() {
            len += 1;
        }
        if !self.certificate_root.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Ack", len)?;
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        if !self.certificate_root.is_empty() {
            struct_ser.serialize_field("certificateRoot", &self.certificate_root)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Ack {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "version",
            "certificate_root",
            "certificateRoot",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Version,
            CertificateRoot,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "version" => Ok(GeneratedField::Version),
                            "certificateRoot" | "certificate_root" => Ok(GeneratedField::CertificateRoot),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Ack;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Ack")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Ack, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut version__ = None;
                let mut certificate_root__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::CertificateRoot => {
                            if certificate_root__.is_some() {
                                return Err(serde::de::Error::duplicate_field("certificateRoot"));
                            }
                            certificate_root__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Ack {
                    version: version__.unwrap_or_default(),
                    certificate_root: certificate_root__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Ack", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Backend {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.service.is_empty() {
            len += 1;
        }
        if self.weight != 0 {
            len += 1;
        }
        if !self.endpoints.is_empty() {
            len += 1;
        }
        if self.port != 0 {
            len += 1;
        }
        if self.request_headers.is_some() {
            len += 1;
        }
        if self.response_headers.is_some() {
            len += 1;
        }
        if self.rewrite.is_some() {
            len += 1;
        }
        if !self.namespace.is_empty() {
            len += 1;
        }
        if !self.mirrors.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Backend", len)?;
        if !self.service.is_empty() {
            struct_ser.serialize_field("service", &self.service)?;
        }
        if self.weight != 0 {
            struct_ser.serialize_field("weight", &self.weight)?;
        }
        if !self.endpoints.is_empty() {
            struct_ser.serialize_field("endpoints", &self.endpoints)?;
        }
        if self.port != 0 {
            struct_ser.serialize_field("port", &self.port)?;
        }
        if let Some(v) = self.request_headers.as_ref() {
            struct_ser.serialize_field("requestHeaders", v)?;
        }
        if let Some(v) = self.response_headers.as_ref() {
            struct_ser.serialize_field("responseHeaders", v)?;
        }
        if let Some(v) = self.rewrite.as_ref() {
            struct_ser.serialize_field("rewrite", v)?;
        }
        if !self.namespace.is_empty() {
            struct_ser.serialize_field("namespace", &self.namespace)?;
        }
        if !self.mirrors.is_empty() {
            struct_ser.serialize_field("mirrors", &self.mirrors)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Backend {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "service",
            "weight",
            "endpoints",
            "port",
            "request_headers",
            "requestHeaders",
            "response_headers",
            "responseHeaders",
            "rewrite",
            "namespace",
            "mirrors",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Service,
            Weight,
            Endpoints,
            Port,
            RequestHeaders,
            ResponseHeaders,
            Rewrite,
            Namespace,
            Mirrors,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "service" => Ok(GeneratedField::Service),
                            "weight" => Ok(GeneratedField::Weight),
                            "endpoints" => Ok(GeneratedField::Endpoints),
                            "port" => Ok(GeneratedField::Port),
                            "requestHeaders" | "request_headers" => Ok(GeneratedField::RequestHeaders),
                            "responseHeaders" | "response_headers" => Ok(GeneratedField::ResponseHeaders),
                            "rewrite" => Ok(GeneratedField::Rewrite),
                            "namespace" => Ok(GeneratedField::Namespace),
                            "mirrors" => Ok(GeneratedField::Mirrors),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Backend;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Backend")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Backend, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut service__ = None;
                let mut weight__ = None;
                let mut endpoints__ = None;
                let mut port__ = None;
                let mut request_headers__ = None;
                let mut response_headers__ = None;
                let mut rewrite__ = None;
                let mut namespace__ = None;
                let mut mirrors__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Service => {
                            if service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("service"));
                            }
                            service__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Weight => {
                            if weight__.is_some() {
                                return Err(serde::de::Error::duplicate_field("weight"));
                            }
                            weight__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Endpoints => {
                            if endpoints__.is_some() {
                                return Err(serde::de::Error::duplicate_field("endpoints"));
                            }
                            endpoints__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::RequestHeaders => {
                            if request_headers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requestHeaders"));
                            }
                            request_headers__ = map_.next_value()?;
                        }
                        GeneratedField::ResponseHeaders => {
                            if response_headers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("responseHeaders"));
                            }
                            response_headers__ = map_.next_value()?;
                        }
                        GeneratedField::Rewrite => {
                            if rewrite__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rewrite"));
                            }
                            rewrite__ = map_.next_value()?;
                        }
                        GeneratedField::Namespace => {
                            if namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespace"));
                            }
                            namespace__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mirrors => {
                            if mirrors__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mirrors"));
                            }
                            mirrors__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Backend {
                    service: service__.unwrap_or_default(),
                    weight: weight__.unwrap_or_default(),
                    endpoints: endpoints__.unwrap_or_default(),
                    port: port__.unwrap_or_default(),
                    request_headers: request_headers__,
                    response_headers: response_headers__,
                    rewrite: rewrite__,
                    namespace: namespace__.unwrap_or_default(),
                    mirrors: mirrors__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Backend", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CertificateRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.token.is_empty() {
            len += 1;
        }
        if !self.namespace.is_empty() {
            len += 1;
        }
        if !self.service_account.is_empty() {
            len += 1;
        }
        if !self.csr_pem.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.CertificateRequest", len)?;
        if !self.token.is_empty() {
            struct_ser.serialize_field("token", &self.token)?;
        }
        if !self.namespace.is_empty() {
            struct_ser.serialize_field("namespace", &self.namespace)?;
        }
        if !self.service_account.is_empty() {
            struct_ser.serialize_field("serviceAccount", &self.service_account)?;
        }
        if !self.csr_pem.is_empty() {
            struct_ser.serialize_field("csrPem", &self.csr_pem)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CertificateRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "token",
            "namespace",
            "service_account",
            "serviceAccount",
            "csr_pem",
            "csrPem",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Token,
            Namespace,
            ServiceAccount,
            CsrPem,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "token" => Ok(GeneratedField::Token),
                            "namespace" => Ok(GeneratedField::Namespace),
                            "serviceAccount" | "service_account" => Ok(GeneratedField::ServiceAccount),
                            "csrPem" | "csr_pem" => Ok(GeneratedField::CsrPem),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CertificateRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.CertificateRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CertificateRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut token__ = None;
                let mut namespace__ = None;
                let mut service_account__ = None;
                let mut csr_pem__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Token => {
                            if token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("token"));
                            }
                            token__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Namespace => {
                            if namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespace"));
                            }
                            namespace__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ServiceAccount => {
                            if service_account__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serviceAccount"));
                            }
                            service_account__ = Some(map_.next_value()?);
                        }
                        GeneratedField::CsrPem => {
                            if csr_pem__.is_some() {
                                return Err(serde::de::Error::duplicate_field("csrPem"));
                            }
                            csr_pem__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(CertificateRequest {
                    token: token__.unwrap_or_default(),
                    namespace: namespace__.unwrap_or_default(),
                    service_account: service_account__.unwrap_or_default(),
                    csr_pem: csr_pem__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.CertificateRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CertificateResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.certificate_chain_pem.is_empty() {
            len += 1;
        }
        if !self.ca_bundle_pem.is_empty() {
            len += 1;
        }
        if self.not_after_unix != 0 {
            len += 1;
        }
        if !self.root.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.CertificateResponse", len)?;
        if !self.certificate_chain_pem.is_empty() {
            struct_ser.serialize_field("certificateChainPem", &self.certificate_chain_pem)?;
        }
        if !self.ca_bundle_pem.is_empty() {
            struct_ser.serialize_field("caBundlePem", &self.ca_bundle_pem)?;
        }
        if self.not_after_unix != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("notAfterUnix", ToString::to_string(&self.not_after_unix).as_str())?;
        }
        if !self.root.is_empty() {
            struct_ser.serialize_field("root", &self.root)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CertificateResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "certificate_chain_pem",
            "certificateChainPem",
            "ca_bundle_pem",
            "caBundlePem",
            "not_after_unix",
            "notAfterUnix",
            "root",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            CertificateChainPem,
            CaBundlePem,
            NotAfterUnix,
            Root,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "certificateChainPem" | "certificate_chain_pem" => Ok(GeneratedField::CertificateChainPem),
                            "caBundlePem" | "ca_bundle_pem" => Ok(GeneratedField::CaBundlePem),
                            "notAfterUnix" | "not_after_unix" => Ok(GeneratedField::NotAfterUnix),
                            "root" => Ok(GeneratedField::Root),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CertificateResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.CertificateResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CertificateResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut certificate_chain_pem__ = None;
                let mut ca_bundle_pem__ = None;
                let mut not_after_unix__ = None;
                let mut root__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::CertificateChainPem => {
                            if certificate_chain_pem__.is_some() {
                                return Err(serde::de::Error::duplicate_field("certificateChainPem"));
                            }
                            certificate_chain_pem__ = Some(map_.next_value()?);
                        }
                        GeneratedField::CaBundlePem => {
                            if ca_bundle_pem__.is_some() {
                                return Err(serde::de::Error::duplicate_field("caBundlePem"));
                            }
                            ca_bundle_pem__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NotAfterUnix => {
                            if not_after_unix__.is_some() {
                                return Err(serde::de::Error::duplicate_field("notAfterUnix"));
                            }
                            not_after_unix__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Root => {
                            if root__.is_some() {
                                return Err(serde::de::Error::duplicate_field("root"));
                            }
                            root__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(CertificateResponse {
                    certificate_chain_pem: certificate_chain_pem__.unwrap_or_default(),
                    ca_bundle_pem: ca_bundle_pem__.unwrap_or_default(),
                    not_after_unix: not_after_unix__.unwrap_or_default(),
                    root: root__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.CertificateResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ClientPolicy {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.namespace.is_empty() {
            len += 1;
        }
        if !self.service.is_empty() {
            len += 1;
        }
        if self.fault.is_some() {
            len += 1;
        }
        if self.retry.is_some() {
            len += 1;
        }
        if self.limits.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.ClientPolicy", len)?;
        if !self.namespace.is_empty() {
            struct_ser.serialize_field("namespace", &self.namespace)?;
        }
        if !self.service.is_empty() {
            struct_ser.serialize_field("service", &self.service)?;
        }
        if let Some(v) = self.fault.as_ref() {
            struct_ser.serialize_field("fault", v)?;
        }
        if let Some(v) = self.retry.as_ref() {
            struct_ser.serialize_field("retry", v)?;
        }
        if let Some(v) = self.limits.as_ref() {
            struct_ser.serialize_field("limits", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ClientPolicy {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "namespace",
            "service",
            "fault",
            "retry",
            "limits",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Namespace,
            Service,
            Fault,
            Retry,
            Limits,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "namespace" => Ok(GeneratedField::Namespace),
                            "service" => Ok(GeneratedField::Service),
                            "fault" => Ok(GeneratedField::Fault),
                            "retry" => Ok(GeneratedField::Retry),
                            "limits" => Ok(GeneratedField::Limits),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ClientPolicy;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.ClientPolicy")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ClientPolicy, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut namespace__ = None;
                let mut service__ = None;
                let mut fault__ = None;
                let mut retry__ = None;
                let mut limits__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Namespace => {
                            if namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespace"));
                            }
                            namespace__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Service => {
                            if service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("service"));
                            }
                            service__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Fault => {
                            if fault__.is_some() {
                                return Err(serde::de::Error::duplicate_field("fault"));
                            }
                            fault__ = map_.next_value()?;
                        }
                        GeneratedField::Retry => {
                            if retry__.is_some() {
                                return Err(serde::de::Error::duplicate_field("retry"));
                            }
                            retry__ = map_.next_value()?;
                        }
                        GeneratedField::Limits => {
                            if limits__.is_some() {
                                return Err(serde::de::Error::duplicate_field("limits"));
                            }
                            limits__ = map_.next_value()?;
                        }
                    }
                }
                Ok(ClientPolicy {
                    namespace: namespace__.unwrap_or_default(),
                    service: service__.unwrap_or_default(),
                    fault: fault__,
                    retry: retry__,
                    limits: limits__,
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.ClientPolicy", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ControlMessage {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.message.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.ControlMessage", len)?;
        if let Some(v) = self.message.as_ref() {
            match v {
                control_message::Message::Snapshot(v) => {
                    struct_ser.serialize_field("snapshot", v)?;
                }
                control_message::Message::Refused(v) => {
                    struct_ser.serialize_field("refused", v)?;
                }
                control_message::Message::LookupResult(v) => {
                    struct_ser.serialize_field("lookupResult", v)?;
                }
            }
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ControlMessage {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "snapshot",
            "refused",
            "lookup_result",
            "lookupResult",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Snapshot,
            Refused,
            LookupResult,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "snapshot" => Ok(GeneratedField::Snapshot),
                            "refused" => Ok(GeneratedField::Refused),
                            "lookupResult" | "lookup_result" => Ok(GeneratedField::LookupResult),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ControlMessage;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.ControlMessage")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ControlMessage, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut message__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Snapshot => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("snapshot"));
                            }
                            message__ = map_.next_value::<::std::option::Option<_>>()?.map(control_message::Message::Snapshot)
;
                        }
                        GeneratedField::Refused => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("refused"));
                            }
                            message__ = map_.next_value::<::std::option::Option<_>>()?.map(control_message::Message::Refused)
;
                        }
                        GeneratedField::LookupResult => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("lookupResult"));
                            }
                            message__ = map_.next_value::<::std::option::Option<_>>()?.map(control_message::Message::LookupResult)
;
                        }
                    }
                }
                Ok(ControlMessage {
                    message: message__,
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.ControlMessage", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DirectAddress {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.address.is_empty() {
            len += 1;
        }
        if self.port != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.DirectAddress", len)?;
        if !self.address.is_empty() {
            struct_ser.serialize_field("address", &self.address)?;
        }
        if self.port != 0 {
            struct_ser.serialize_field("port", &self.port)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for DirectAddress {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "address",
            "port",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Address,
            Port,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "address" => Ok(GeneratedField::Address),
                            "port" => Ok(GeneratedField::Port),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = DirectAddress;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.DirectAddress")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DirectAddress, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut address__ = None;
                let mut port__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Address => {
                            if address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("address"));
                            }
                            address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(DirectAddress {
                    address: address__.unwrap_or_default(),
                    port: port__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.DirectAddress", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for EgressDefault {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Deny => "EGRESS_DEFAULT_DENY",
            Self::Allow => "EGRESS_DEFAULT_ALLOW",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for EgressDefault {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "EGRESS_DEFAULT_DENY",
            "EGRESS_DEFAULT_ALLOW",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = EgressDefault;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "EGRESS_DEFAULT_DENY" => Ok(EgressDefault::Deny),
                    "EGRESS_DEFAULT_ALLOW" => Ok(EgressDefault::Allow),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for EgressPort {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.number != 0 {
            len += 1;
        }
        if self.protocol != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.EgressPort", len)?;
        if self.number != 0 {
            struct_ser.serialize_field("number", &self.number)?;
        }
        if self.protocol != 0 {
            let v = EgressProtocol::try_from(self.protocol)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.protocol)))?;
            struct_ser.serialize_field("protocol", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for EgressPort {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "number",
            "protocol",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Number,
            Protocol,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "number" => Ok(GeneratedField::Number),
                            "protocol" => Ok(GeneratedField::Protocol),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = EgressPort;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.EgressPort")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<EgressPort, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut number__ = None;
                let mut protocol__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Number => {
                            if number__.is_some() {
                                return Err(serde::de::Error::duplicate_field("number"));
                            }
                            number__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Protocol => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("protocol"));
                            }
                            protocol__ = Some(map_.next_value::<EgressProtocol>()? as i32);
                        }
                    }
                }
                Ok(EgressPort {
                    number: number__.unwrap_or_default(),
                    protocol: protocol__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.EgressPort", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for EgressProtocol {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Http => "EGRESS_PROTOCOL_HTTP",
            Self::Https => "EGRESS_PROTOCOL_HTTPS",
            Self::Tcp => "EGRESS_PROTOCOL_TCP",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for EgressProtocol {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "EGRESS_PROTOCOL_HTTP",
            "EGRESS_PROTOCOL_HTTPS",
            "EGRESS_PROTOCOL_TCP",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = EgressProtocol;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "EGRESS_PROTOCOL_HTTP" => Ok(EgressProtocol::Http),
                    "EGRESS_PROTOCOL_HTTPS" => Ok(EgressProtocol::Https),
                    "EGRESS_PROTOCOL_TCP" => Ok(EgressProtocol::Tcp),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for EgressRule {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.hosts.is_empty() {
            len += 1;
        }
        if !self.ip_ranges.is_empty() {
            len += 1;
        }
        if !self.ports.is_empty() {
            len += 1;
        }
        if !self.matches.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.EgressRule", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.hosts.is_empty() {
            struct_ser.serialize_field("hosts", &self.hosts)?;
        }
        if !self.ip_ranges.is_empty() {
            struct_ser.serialize_field("ipRanges", &self.ip_ranges)?;
        }
        if !self.ports.is_empty() {
            struct_ser.serialize_field("ports", &self.ports)?;
        }
        if !self.matches.is_empty() {
            struct_ser.serialize_field("matches", &self.matches)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for EgressRule {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "hosts",
            "ip_ranges",
            "ipRanges",
            "ports",
            "matches",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Hosts,
            IpRanges,
            Ports,
            Matches,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "hosts" => Ok(GeneratedField::Hosts),
                            "ipRanges" | "ip_ranges" => Ok(GeneratedField::IpRanges),
                            "ports" => Ok(GeneratedField::Ports),
                            "matches" => Ok(GeneratedField::Matches),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = EgressRule;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.EgressRule")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<EgressRule, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut hosts__ = None;
                let mut ip_ranges__ = None;
                let mut ports__ = None;
                let mut matches__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Hosts => {
                            if hosts__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hosts"));
                            }
                            hosts__ = Some(map_.next_value()?);
                        }
                        GeneratedField::IpRanges => {
                            if ip_ranges__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ipRanges"));
                            }
                            ip_ranges__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ports => {
                            if ports__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ports"));
                            }
                            ports__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Matches => {
                            if matches__.is_some() {
                                return Err(serde::de::Error::duplicate_field("matches"));
                            }
                            matches__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(EgressRule {
                    name: name__.unwrap_or_default(),
                    hosts: hosts__.unwrap_or_default(),
                    ip_ranges: ip_ranges__.unwrap_or_default(),
                    ports: ports__.unwrap_or_default(),
                    matches: matches__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.EgressRule", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Endpoint {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.address.is_empty() {
            len += 1;
        }
        if !self.identity.is_empty() {
            len += 1;
        }
        if !self.direct.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Endpoint", len)?;
        if !self.address.is_empty() {
            struct_ser.serialize_field("address", &self.address)?;
        }
        if !self.identity.is_empty() {
            struct_ser.serialize_field("identity", &self.identity)?;
        }
        if !self.direct.is_empty() {
            struct_ser.serialize_field("direct", &self.direct)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Endpoint {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "address",
            "identity",
            "direct",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Address,
            Identity,
            Direct,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "address" => Ok(GeneratedField::Address),
                            "identity" => Ok(GeneratedField::Identity),
                            "direct" => Ok(GeneratedField::Direct),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Endpoint;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Endpoint")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Endpoint, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut address__ = None;
                let mut identity__ = None;
                let mut direct__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Address => {
                            if address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("address"));
                            }
                            address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Identity => {
                            if identity__.is_some() {
                                return Err(serde::de::Error::duplicate_field("identity"));
                            }
                            identity__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Direct => {
                            if direct__.is_some() {
                                return Err(serde::de::Error::duplicate_field("direct"));
                            }
                            direct__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Endpoint {
                    address: address__.unwrap_or_default(),
                    identity: identity__.unwrap_or_default(),
                    direct: direct__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Endpoint", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Fault {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if self.abort_fraction != 0. {
            len += 1;
        }
        if self.abort_status != 0 {
            len += 1;
        }
        if self.delay_fraction != 0. {
            len += 1;
        }
        if self.delay_ms != 0 {
            len += 1;
        }
        if !self.matches.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Fault", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if self.abort_fraction != 0. {
            struct_ser.serialize_field("abortFraction", &self.abort_fraction)?;
        }
        if self.abort_status != 0 {
            struct_ser.serialize_field("abortStatus", &self.abort_status)?;
        }
        if self.delay_fraction != 0. {
            struct_ser.serialize_field("delayFraction", &self.delay_fraction)?;
        }
        if self.delay_ms != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("delayMs", ToString::to_string(&self.delay_ms).as_str())?;
        }
        if !self.matches.is_empty() {
            struct_ser.serialize_field("matches", &self.matches)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Fault {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "abort_fraction",
            "abortFraction",
            "abort_status",
            "abortStatus",
            "delay_fraction",
            "delayFraction",
            "delay_ms",
            "delayMs",
            "matches",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            AbortFraction,
            AbortStatus,
            DelayFraction,
            DelayMs,
            Matches,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "abortFraction" | "abort_fraction" => Ok(GeneratedField::AbortFraction),
                            "abortStatus" | "abort_status" => Ok(GeneratedField::AbortStatus),
                            "delayFraction" | "delay_fraction" => Ok(GeneratedField::DelayFraction),
                            "delayMs" | "delay_ms" => Ok(GeneratedField::DelayMs),
                            "matches" => Ok(GeneratedField::Matches),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Fault;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Fault")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Fault, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut abort_fraction__ = None;
                let mut abort_status__ = None;
                let mut delay_fraction__ = None;
                let mut delay_ms__ = None;
                let mut matches__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AbortFraction => {
                            if abort_fraction__.is_some() {
                                return Err(serde::de::Error::duplicate_field("abortFraction"));
                            }
                            abort_fraction__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AbortStatus => {
                            if abort_status__.is_some() {
                                return Err(serde::de::Error::duplicate_field("abortStatus"));
                            }
                            abort_status__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::DelayFraction => {
                            if delay_fraction__.is_some() {
                                return Err(serde::de::Error::duplicate_field("delayFraction"));
                            }
                            delay_fraction__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::DelayMs => {
                            if delay_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("delayMs"));
                            }
                            delay_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Matches => {
                            if matches__.is_some() {
                                return Err(serde::de::Error::duplicate_field("matches"));
                            }
                            matches__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Fault {
                    name: name__.unwrap_or_default(),
                    abort_fraction: abort_fraction__.unwrap_or_default(),
                    abort_status: abort_status__.unwrap_or_default(),
                    delay_fraction: delay_fraction__.unwrap_or_default(),
                    delay_ms: delay_ms__.unwrap_or_default(),
                    matches: matches__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Fault", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Header {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.value.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Header", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.value.is_empty() {
            struct_ser.serialize_field("value", &self.value)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Header {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "value",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Value,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "value" => Ok(GeneratedField::Value),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Header;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Header")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Header, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut value__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Value => {
                            if value__.is_some() {
                                return Err(serde::de::Error::duplicate_field("value"));
                            }
                            value__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Header {
                    name: name__.unwrap_or_default(),
                    value: value__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Header", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for HeaderMatch {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.value_regex.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.HeaderMatch", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.value_regex.is_empty() {
            struct_ser.serialize_field("valueRegex", &self.value_regex)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for HeaderMatch {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "value_regex",
            "valueRegex",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            ValueRegex,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "valueRegex" | "value_regex" => Ok(GeneratedField::ValueRegex),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = HeaderMatch;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.HeaderMatch")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<HeaderMatch, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut value_regex__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ValueRegex => {
                            if value_regex__.is_some() {
                                return Err(serde::de::Error::duplicate_field("valueRegex"));
                            }
                            value_regex__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(HeaderMatch {
                    name: name__.unwrap_or_default(),
                    value_regex: value_regex__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.HeaderMatch", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for HeaderModifier {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.set.is_empty() {
            len += 1;
        }
        if !self.add.is_empty() {
            len += 1;
        }
        if !self.remove.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.HeaderModifier", len)?;
        if !self.set.is_empty() {
            struct_ser.serialize_field("set", &self.set)?;
        }
        if !self.add.is_empty() {
            struct_ser.serialize_field("add", &self.add)?;
        }
        if !self.remove.is_empty() {
            struct_ser.serialize_field("remove", &self.remove)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for HeaderModifier {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "set",
            "add",
            "remove",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Set,
            Add,
            Remove,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "set" => Ok(GeneratedField::Set),
                            "add" => Ok(GeneratedField::Add),
                            "remove" => Ok(GeneratedField::Remove),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = HeaderModifier;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.HeaderModifier")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<HeaderModifier, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut set__ = None;
                let mut add__ = None;
                let mut remove__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Set => {
                            if set__.is_some() {
                                return Err(serde::de::Error::duplicate_field("set"));
                            }
                            set__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Add => {
                            if add__.is_some() {
                                return Err(serde::de::Error::duplicate_field("add"));
                            }
                            add__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Remove => {
                            if remove__.is_some() {
                                return Err(serde::de::Error::duplicate_field("remove"));
                            }
                            remove__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(HeaderModifier {
                    set: set__.unwrap_or_default(),
                    add: add__.unwrap_or_default(),
                    remove: remove__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.HeaderModifier", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Hello {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.proxy_id.is_empty() {
            len += 1;
        }
        if !self.token.is_empty() {
            len += 1;
        }
        if self.workload.is_some() {
            len += 1;
        }
        if !self.inbound_address.is_empty() {
            len += 1;
        }
        if !self.version.is_empty() {
            len += 1;
        }
        if !self.certificate_root.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Hello", len)?;
        if !self.proxy_id.is_empty() {
            struct_ser.serialize_field("proxyId", &self.proxy_id)?;
        }
        if !self.token.is_empty() {
            struct_ser.serialize_field("token", &self.token)?;
        }
        if let Some(v) = self.workload.as_ref() {
            struct_ser.serialize_field("workload", v)?;
        }
        if !self.inbound_address.is_empty() {
            struct_ser.serialize_field("inboundAddress", &self.inbound_address)?;
        }
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        if !self.certificate_root.is_empty() {
            struct_ser.serialize_field("certificateRoot", &self.certificate_root)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Hello {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "proxy_id",
            "proxyId",
            "token",
            "workload",
            "inbound_address",
            "inboundAddress",
            "version",
            "certificate_root",
            "certificateRoot",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ProxyId,
            Token,
            Workload,
            InboundAddress,
            Version,
            CertificateRoot,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "proxyId" | "proxy_id" => Ok(GeneratedField::ProxyId),
                            "token" => Ok(GeneratedField::Token),
                            "workload" => Ok(GeneratedField::Workload),
                            "inboundAddress" | "inbound_address" => Ok(GeneratedField::InboundAddress),
                            "version" => Ok(GeneratedField::Version),
                            "certificateRoot" | "certificate_root" => Ok(GeneratedField::CertificateRoot),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Hello;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Hello")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Hello, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut proxy_id__ = None;
                let mut token__ = None;
                let mut workload__ = None;
                let mut inbound_address__ = None;
                let mut version__ = None;
                let mut certificate_root__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ProxyId => {
                            if proxy_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("proxyId"));
                            }
                            proxy_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Token => {
                            if token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("token"));
                            }
                            token__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Workload => {
                            if workload__.is_some() {
                                return Err(serde::de::Error::duplicate_field("workload"));
                            }
                            workload__ = map_.next_value()?;
                        }
                        GeneratedField::InboundAddress => {
                            if inbound_address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("inboundAddress"));
                            }
                            inbound_address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::CertificateRoot => {
                            if certificate_root__.is_some() {
                                return Err(serde::de::Error::duplicate_field("certificateRoot"));
                            }
                            certificate_root__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Hello {
                    proxy_id: proxy_id__.unwrap_or_default(),
                    token: token__.unwrap_or_default(),
                    workload: workload__,
                    inbound_address: inbound_address__.unwrap_or_default(),
                    version: version__.unwrap_or_default(),
                    certificate_root: certificate_root__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Hello", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for HttpMatch {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.path_regex.is_empty() {
            len += 1;
        }
        if !self.methods.is_empty() {
            len += 1;
        }
        if !self.headers.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.HttpMatch", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.path_regex.is_empty() {
            struct_ser.serialize_field("pathRegex", &self.path_regex)?;
        }
        if !self.methods.is_empty() {
            struct_ser.serialize_field("methods", &self.methods)?;
        }
        if !self.headers.is_empty() {
            struct_ser.serialize_field("headers", &self.headers)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for HttpMatch {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "path_regex",
            "pathRegex",
            "methods",
            "headers",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            PathRegex,
            Methods,
            Headers,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "pathRegex" | "path_regex" => Ok(GeneratedField::PathRegex),
                            "methods" => Ok(GeneratedField::Methods),
                            "headers" => Ok(GeneratedField::Headers),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = HttpMatch;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.HttpMatch")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<HttpMatch, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut path_regex__ = None;
                let mut methods__ = None;
                let mut headers__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::PathRegex => {
                            if path_regex__.is_some() {
                                return Err(serde::de::Error::duplicate_field("pathRegex"));
                            }
                            path_regex__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Methods => {
                            if methods__.is_some() {
                                return Err(serde::de::Error::duplicate_field("methods"));
                            }
                            methods__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Headers => {
                            if headers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("headers"));
                            }
                            headers__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(HttpMatch {
                    name: name__.unwrap_or_default(),
                    path_regex: path_regex__.unwrap_or_default(),
                    methods: methods__.unwrap_or_default(),
                    headers: headers__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.HttpMatch", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for HttpMatches {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.matches.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.HttpMatches", len)?;
        if !self.matches.is_empty() {
            struct_ser.serialize_field("matches", &self.matches)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for HttpMatches {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "matches",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Matches,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "matches" => Ok(GeneratedField::Matches),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = HttpMatches;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.HttpMatches")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<HttpMatches, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut matches__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Matches => {
                            if matches__.is_some() {
                                return Err(serde::de::Error::duplicate_field("matches"));
                            }
                            matches__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(HttpMatches {
                    matches: matches__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.HttpMatches", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for InboundPort {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.service_port != 0 {
            len += 1;
        }
        if !self.app_address.is_empty() {
            len += 1;
        }
        if self.protocol != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.InboundPort", len)?;
        if self.service_port != 0 {
            struct_ser.serialize_field("servicePort", &self.service_port)?;
        }
        if !self.app_address.is_empty() {
            struct_ser.serialize_field("appAddress", &self.app_address)?;
        }
        if self.protocol != 0 {
            let v = Protocol::try_from(self.protocol)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.protocol)))?;
            struct_ser.serialize_field("protocol", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for InboundPort {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "service_port",
            "servicePort",
            "app_address",
            "appAddress",
            "protocol",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ServicePort,
            AppAddress,
            Protocol,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "servicePort" | "service_port" => Ok(GeneratedField::ServicePort),
                            "appAddress" | "app_address" => Ok(GeneratedField::AppAddress),
                            "protocol" => Ok(GeneratedField::Protocol),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = InboundPort;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.InboundPort")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<InboundPort, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut service_port__ = None;
                let mut app_address__ = None;
                let mut protocol__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ServicePort => {
                            if service_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("servicePort"));
                            }
                            service_port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AppAddress => {
                            if app_address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("appAddress"));
                            }
                            app_address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Protocol => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("protocol"));
                            }
                            protocol__ = Some(map_.next_value::<Protocol>()? as i32);
                        }
                    }
                }
                Ok(InboundPort {
                    service_port: service_port__.unwrap_or_default(),
                    app_address: app_address__.unwrap_or_default(),
                    protocol: protocol__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.InboundPort", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for InboundRule {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.traffic_target.is_empty() {
            len += 1;
        }
        if !self.sources.is_empty() {
            len += 1;
        }
        if self.ports.is_some() {
            len += 1;
        }
        if self.http.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.InboundRule", len)?;
        if !self.traffic_target.is_empty() {
            struct_ser.serialize_field("trafficTarget", &self.traffic_target)?;
        }
        if !self.sources.is_empty() {
            struct_ser.serialize_field("sources", &self.sources)?;
        }
        if let Some(v) = self.ports.as_ref() {
            struct_ser.serialize_field("ports", v)?;
        }
        if let Some(v) = self.http.as_ref() {
            struct_ser.serialize_field("http", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for InboundRule {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "traffic_target",
            "trafficTarget",
            "sources",
            "ports",
            "http",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            TrafficTarget,
            Sources,
            Ports,
            Http,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "trafficTarget" | "traffic_target" => Ok(GeneratedField::TrafficTarget),
                            "sources" => Ok(GeneratedField::Sources),
                            "ports" => Ok(GeneratedField::Ports),
                            "http" => Ok(GeneratedField::Http),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = InboundRule;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.InboundRule")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<InboundRule, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut traffic_target__ = None;
                let mut sources__ = None;
                let mut ports__ = None;
                let mut http__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::TrafficTarget => {
                            if traffic_target__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trafficTarget"));
                            }
                            traffic_target__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Sources => {
                            if sources__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sources"));
                            }
                            sources__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ports => {
                            if ports__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ports"));
                            }
                            ports__ = map_.next_value()?;
                        }
                        GeneratedField::Http => {
                            if http__.is_some() {
                                return Err(serde::de::Error::duplicate_field("http"));
                            }
                            http__ = map_.next_value()?;
                        }
                    }
                }
                Ok(InboundRule {
                    traffic_target: traffic_target__.unwrap_or_default(),
                    sources: sources__.unwrap_or_default(),
                    ports: ports__,
                    http: http__,
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.InboundRule", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for IngressBackendPort {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.service.is_empty() {
            len += 1;
        }
        if self.port != 0 {
            len += 1;
        }
        if self.protocol != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.IngressBackendPort", len)?;
        if !self.service.is_empty() {
            struct_ser.serialize_field("service", &self.service)?;
        }
        if self.port != 0 {
            struct_ser.serialize_field("port", &self.port)?;
        }
        if self.protocol != 0 {
            let v = IngressProtocol::try_from(self.protocol)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.protocol)))?;
            struct_ser.serialize_field("protocol", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for IngressBackendPort {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "service",
            "port",
            "protocol",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Service,
            Port,
            Protocol,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "service" => Ok(GeneratedField::Service),
                            "port" => Ok(GeneratedField::Port),
                            "protocol" => Ok(GeneratedField::Protocol),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = IngressBackendPort;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.IngressBackendPort")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<IngressBackendPort, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut service__ = None;
                let mut port__ = None;
                let mut protocol__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Service => {
                            if service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("service"));
                            }
                            service__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Protocol => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("protocol"));
                            }
                            protocol__ = Some(map_.next_value::<IngressProtocol>()? as i32);
                        }
                    }
                }
                Ok(IngressBackendPort {
                    service: service__.unwrap_or_default(),
                    port: port__.unwrap_or_default(),
                    protocol: protocol__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.IngressBackendPort", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for IngressProtocol {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Http => "INGRESS_PROTOCOL_HTTP",
            Self::Https => "INGRESS_PROTOCOL_HTTPS",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for IngressProtocol {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "INGRESS_PROTOCOL_HTTP",
            "INGRESS_PROTOCOL_HTTPS",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = IngressProtocol;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "INGRESS_PROTOCOL_HTTP" => Ok(IngressProtocol::Http),
                    "INGRESS_PROTOCOL_HTTPS" => Ok(IngressProtocol::Https),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for IngressRule {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.ingress_backend.is_empty() {
            len += 1;
        }
        if !self.backends.is_empty() {
            len += 1;
        }
        if !self.sources.is_empty() {
            len += 1;
        }
        if !self.principals.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.IngressRule", len)?;
        if !self.ingress_backend.is_empty() {
            struct_ser.serialize_field("ingressBackend", &self.ingress_backend)?;
        }
        if !self.backends.is_empty() {
            struct_ser.serialize_field("backends", &self.backends)?;
        }
        if !self.sources.is_empty() {
            struct_ser.serialize_field("sources", &self.sources)?;
        }
        if !self.principals.is_empty() {
            struct_ser.serialize_field("principals", &self.principals)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for IngressRule {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "ingress_backend",
            "ingressBackend",
            "backends",
            "sources",
            "principals",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            IngressBackend,
            Backends,
            Sources,
            Principals,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "ingressBackend" | "ingress_backend" => Ok(GeneratedField::IngressBackend),
                            "backends" => Ok(GeneratedField::Backends),
                            "sources" => Ok(GeneratedField::Sources),
                            "principals" => Ok(GeneratedField::Principals),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = IngressRule;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.IngressRule")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<IngressRule, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut ingress_backend__ = None;
                let mut backends__ = None;
                let mut sources__ = None;
                let mut principals__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::IngressBackend => {
                            if ingress_backend__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ingressBackend"));
                            }
                            ingress_backend__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Backends => {
                            if backends__.is_some() {
                                return Err(serde::de::Error::duplicate_field("backends"));
                            }
                            backends__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Sources => {
                            if sources__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sources"));
                            }
                            sources__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Principals => {
                            if principals__.is_some() {
                                return Err(serde::de::Error::duplicate_field("principals"));
                            }
                            principals__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(IngressRule {
                    ingress_backend: ingress_backend__.unwrap_or_default(),
                    backends: backends__.unwrap_or_default(),
                    sources: sources__.unwrap_or_default(),
                    principals: principals__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.IngressRule", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Limits {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if self.max_requests.is_some() {
            len += 1;
        }
        if self.max_pending_requests.is_some() {
            len += 1;
        }
        if self.connect_timeout_ms != 0 {
            len += 1;
        }
        if self.max_connections.is_some() {
            len += 1;
        }
        if self.max_requests_per_connection.is_some() {
            len += 1;
        }
        if self.max_retries.is_some() {
            len += 1;
        }
        if self.outlier.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Limits", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if let Some(v) = self.max_requests.as_ref() {
            struct_ser.serialize_field("maxRequests", v)?;
        }
        if let Some(v) = self.max_pending_requests.as_ref() {
            struct_ser.serialize_field("maxPendingRequests", v)?;
        }
        if self.connect_timeout_ms != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("connectTimeoutMs", ToString::to_string(&self.connect_timeout_ms).as_str())?;
        }
        if let Some(v) = self.max_connections.as_ref() {
            struct_ser.serialize_field("maxConnections", v)?;
        }
        if let Some(v) = self.max_requests_per_connection.as_ref() {
            struct_ser.serialize_field("maxRequestsPerConnection", v)?;
        }
        if let Some(v) = self.max_retries.as_ref() {
            struct_ser.serialize_field("maxRetries", v)?;
        }
        if let Some(v) = self.outlier.as_ref() {
            struct_ser.serialize_field("outlier", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Limits {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "max_requests",
            "maxRequests",
            "max_pending_requests",
            "maxPendingRequests",
            "connect_timeout_ms",
            "connectTimeoutMs",
            "max_connections",
            "maxConnections",
            "max_requests_per_connection",
            "maxRequestsPerConnection",
            "max_retries",
            "maxRetries",
            "outlier",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            MaxRequests,
            MaxPendingRequests,
            ConnectTimeoutMs,
            MaxConnections,
            MaxRequestsPerConnection,
            MaxRetries,
            Outlier,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "maxRequests" | "max_requests" => Ok(GeneratedField::MaxRequests),
                            "maxPendingRequests" | "max_pending_requests" => Ok(GeneratedField::MaxPendingRequests),
                            "connectTimeoutMs" | "connect_timeout_ms" => Ok(GeneratedField::ConnectTimeoutMs),
                            "maxConnections" | "max_connections" => Ok(GeneratedField::MaxConnections),
                            "maxRequestsPerConnection" | "max_requests_per_connection" => Ok(GeneratedField::MaxRequestsPerConnection),
                            "maxRetries" | "max_retries" => Ok(GeneratedField::MaxRetries),
                            "outlier" => Ok(GeneratedField::Outlier),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Limits;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Limits")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Limits, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut max_requests__ = None;
                let mut max_pending_requests__ = None;
                let mut connect_timeout_ms__ = None;
                let mut max_connections__ = None;
                let mut max_requests_per_connection__ = None;
                let mut max_retries__ = None;
                let mut outlier__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::MaxRequests => {
                            if max_requests__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxRequests"));
                            }
                            max_requests__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::MaxPendingRequests => {
                            if max_pending_requests__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxPendingRequests"));
                            }
                            max_pending_requests__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::ConnectTimeoutMs => {
                            if connect_timeout_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("connectTimeoutMs"));
                            }
                            connect_timeout_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MaxConnections => {
                            if max_connections__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxConnections"));
                            }
                            max_connections__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::MaxRequestsPerConnection => {
                            if max_requests_per_connection__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxRequestsPerConnection"));
                            }
                            max_requests_per_connection__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::MaxRetries => {
                            if max_retries__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxRetries"));
                            }
                            max_retries__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::Outlier => {
                            if outlier__.is_some() {
                                return Err(serde::de::Error::duplicate_field("outlier"));
                            }
                            outlier__ = map_.next_value()?;
                        }
                    }
                }
                Ok(Limits {
                    name: name__.unwrap_or_default(),
                    max_requests: max_requests__,
                    max_pending_requests: max_pending_requests__,
                    connect_timeout_ms: connect_timeout_ms__.unwrap_or_default(),
                    max_connections: max_connections__,
                    max_requests_per_connection: max_requests_per_connection__,
                    max_retries: max_retries__,
                    outlier: outlier__,
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Limits", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Lookup {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.id != 0 {
            len += 1;
        }
        if !self.host.is_empty() {
            len += 1;
        }
        if !self.original.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Lookup", len)?;
        if self.id != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("id", ToString::to_string(&self.id).as_str())?;
        }
        if !self.host.is_empty() {
            struct_ser.serialize_field("host", &self.host)?;
        }
        if !self.original.is_empty() {
            struct_ser.serialize_field("original", &self.original)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Lookup {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "id",
            "host",
            "original",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Id,
            Host,
            Original,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "id" => Ok(GeneratedField::Id),
                            "host" => Ok(GeneratedField::Host),
                            "original" => Ok(GeneratedField::Original),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Lookup;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Lookup")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Lookup, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut id__ = None;
                let mut host__ = None;
                let mut original__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Id => {
                            if id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("id"));
                            }
                            id__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Host => {
                            if host__.is_some() {
                                return Err(serde::de::Error::duplicate_field("host"));
                            }
                            host__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Original => {
                            if original__.is_some() {
                                return Err(serde::de::Error::duplicate_field("original"));
                            }
                            original__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Lookup {
                    id: id__.unwrap_or_default(),
                    host: host__.unwrap_or_default(),
                    original: original__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Lookup", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for LookupResult {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.id != 0 {
            len += 1;
        }
        if self.service.is_some() {
            len += 1;
        }
        if self.unavailable {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.LookupResult", len)?;
        if self.id != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("id", ToString::to_string(&self.id).as_str())?;
        }
        if let Some(v) = self.service.as_ref() {
            struct_ser.serialize_field("service", v)?;
        }
        if self.unavailable {
            struct_ser.serialize_field("unavailable", &self.unavailable)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for LookupResult {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "id",
            "service",
            "unavailable",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Id,
            Service,
            Unavailable,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "id" => Ok(GeneratedField::Id),
                            "service" => Ok(GeneratedField::Service),
                            "unavailable" => Ok(GeneratedField::Unavailable),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = LookupResult;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.LookupResult")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<LookupResult, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut id__ = None;
                let mut service__ = None;
                let mut unavailable__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Id => {
                            if id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("id"));
                            }
                            id__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Service => {
                            if service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("service"));
                            }
                            service__ = map_.next_value()?;
                        }
                        GeneratedField::Unavailable => {
                            if unavailable__.is_some() {
                                return Err(serde::de::Error::duplicate_field("unavailable"));
                            }
                            unavailable__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(LookupResult {
                    id: id__.unwrap_or_default(),
                    service: service__,
                    unavailable: unavailable__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.LookupResult", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for MeshSettings {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.trust_domain.is_empty() {
            len += 1;
        }
        if self.traffic_policy != 0 {
            len += 1;
        }
        if self.mtls != 0 {
            len += 1;
        }
        if self.connect_timeout_ms != 0 {
            len += 1;
        }
        if self.request_timeout_ms != 0 {
            len += 1;
        }
        if self.path_normalization != 0 {
            len += 1;
        }
        if self.retry_budget.is_some() {
            len += 1;
        }
        if self.egress != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.MeshSettings", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.trust_domain.is_empty() {
            struct_ser.serialize_field("trustDomain", &self.trust_domain)?;
        }
        if self.traffic_policy != 0 {
            let v = TrafficPolicy::try_from(self.traffic_policy)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.traffic_policy)))?;
            struct_ser.serialize_field("trafficPolicy", &v)?;
        }
        if self.mtls != 0 {
            let v = MtlsMode::try_from(self.mtls)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.mtls)))?;
            struct_ser.serialize_field("mtls", &v)?;
        }
        if self.connect_timeout_ms != 0 {
            struct_ser.serialize_field("connectTimeoutMs", &self.connect_timeout_ms)?;
        }
        if self.request_timeout_ms != 0 {
            struct_ser.serialize_field("requestTimeoutMs", &self.request_timeout_ms)?;
        }
        if self.path_normalization != 0 {
            let v = PathNormalization::try_from(self.path_normalization)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.path_normalization)))?;
            struct_ser.serialize_field("pathNormalization", &v)?;
        }
        if let Some(v) = self.retry_budget.as_ref() {
            struct_ser.serialize_field("retryBudget", v)?;
        }
        if self.egress != 0 {
            let v = EgressDefault::try_from(self.egress)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.egress)))?;
            struct_ser.serialize_field("egress", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for MeshSettings {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "trust_domain",
            "trustDomain",
            "traffic_policy",
            "trafficPolicy",
            "mtls",
            "connect_timeout_ms",
            "connectTimeoutMs",
            "request_timeout_ms",
            "requestTimeoutMs",
            "path_normalization",
            "pathNormalization",
            "retry_budget",
            "retryBudget",
            "egress",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            TrustDomain,
            TrafficPolicy,
            Mtls,
            ConnectTimeoutMs,
            RequestTimeoutMs,
            PathNormalization,
            RetryBudget,
            Egress,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "trustDomain" | "trust_domain" => Ok(GeneratedField::TrustDomain),
                            "trafficPolicy" | "traffic_policy" => Ok(GeneratedField::TrafficPolicy),
                            "mtls" => Ok(GeneratedField::Mtls),
                            "connectTimeoutMs" | "connect_timeout_ms" => Ok(GeneratedField::ConnectTimeoutMs),
                            "requestTimeoutMs" | "request_timeout_ms" => Ok(GeneratedField::RequestTimeoutMs),
                            "pathNormalization" | "path_normalization" => Ok(GeneratedField::PathNormalization),
                            "retryBudget" | "retry_budget" => Ok(GeneratedField::RetryBudget),
                            "egress" => Ok(GeneratedField::Egress),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = MeshSettings;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.MeshSettings")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<MeshSettings, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut trust_domain__ = None;
                let mut traffic_policy__ = None;
                let mut mtls__ = None;
                let mut connect_timeout_ms__ = None;
                let mut request_timeout_ms__ = None;
                let mut path_normalization__ = None;
                let mut retry_budget__ = None;
                let mut egress__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TrustDomain => {
                            if trust_domain__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trustDomain"));
                            }
                            trust_domain__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TrafficPolicy => {
                            if traffic_policy__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trafficPolicy"));
                            }
                            traffic_policy__ = Some(map_.next_value::<TrafficPolicy>()? as i32);
                        }
                        GeneratedField::Mtls => {
                            if mtls__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mtls"));
                            }
                            mtls__ = Some(map_.next_value::<MtlsMode>()? as i32);
                        }
                        GeneratedField::ConnectTimeoutMs => {
                            if connect_timeout_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("connectTimeoutMs"));
                            }
                            connect_timeout_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::RequestTimeoutMs => {
                            if request_timeout_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requestTimeoutMs"));
                            }
                            request_timeout_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::PathNormalization => {
                            if path_normalization__.is_some() {
                                return Err(serde::de::Error::duplicate_field("pathNormalization"));
                            }
                            path_normalization__ = Some(map_.next_value::<PathNormalization>()? as i32);
                        }
                        GeneratedField::RetryBudget => {
                            if retry_budget__.is_some() {
                                return Err(serde::de::Error::duplicate_field("retryBudget"));
                            }
                            retry_budget__ = map_.next_value()?;
                        }
                        GeneratedField::Egress => {
                            if egress__.is_some() {
                                return Err(serde::de::Error::duplicate_field("egress"));
                            }
                            egress__ = Some(map_.next_value::<EgressDefault>()? as i32);
                        }
                    }
                }
                Ok(MeshSettings {
                    name: name__.unwrap_or_default(),
                    trust_domain: trust_domain__.unwrap_or_default(),
                    traffic_policy: traffic_policy__.unwrap_or_default(),
                    mtls: mtls__.unwrap_or_default(),
                    connect_timeout_ms: connect_timeout_ms__.unwrap_or_default(),
                    request_timeout_ms: request_timeout_ms__.unwrap_or_default(),
                    path_normalization: path_normalization__.unwrap_or_default(),
                    retry_budget: retry_budget__,
                    egress: egress__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.MeshSettings", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Mirror {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.backend.is_some() {
            len += 1;
        }
        if self.fraction != 0. {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Mirror", len)?;
        if let Some(v) = self.backend.as_ref() {
            struct_ser.serialize_field("backend", v)?;
        }
        if self.fraction != 0. {
            struct_ser.serialize_field("fraction", &self.fraction)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Mirror {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "backend",
            "fraction",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Backend,
            Fraction,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "backend" => Ok(GeneratedField::Backend),
                            "fraction" => Ok(GeneratedField::Fraction),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Mirror;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Mirror")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Mirror, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut backend__ = None;
                let mut fraction__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Backend => {
                            if backend__.is_some() {
                                return Err(serde::de::Error::duplicate_field("backend"));
                            }
                            backend__ = map_.next_value()?;
                        }
                        GeneratedField::Fraction => {
                            if fraction__.is_some() {
                                return Err(serde::de::Error::duplicate_field("fraction"));
                            }
                            fraction__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(Mirror {
                    backend: backend__,
                    fraction: fraction__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Mirror", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for MtlsMode {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Strict => "MTLS_MODE_STRICT",
            Self::Permissive => "MTLS_MODE_PERMISSIVE",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for MtlsMode {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "MTLS_MODE_STRICT",
            "MTLS_MODE_PERMISSIVE",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = MtlsMode;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "MTLS_MODE_STRICT" => Ok(MtlsMode::Strict),
                    "MTLS_MODE_PERMISSIVE" => Ok(MtlsMode::Permissive),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Nack {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.version.is_empty() {
            len += 1;
        }
        if !self.error.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Nack", len)?;
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        if !self.error.is_empty() {
            struct_ser.serialize_field("error", &self.error)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Nack {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "version",
            "error",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Version,
            Error,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "version" => Ok(GeneratedField::Version),
                            "error" => Ok(GeneratedField::Error),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Nack;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Nack")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Nack, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut version__ = None;
                let mut error__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Error => {
                            if error__.is_some() {
                                return Err(serde::de::Error::duplicate_field("error"));
                            }
                            error__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Nack {
                    version: version__.unwrap_or_default(),
                    error: error__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Nack", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Outlier {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.consecutive_failures != 0 {
            len += 1;
        }
        if self.interval_ms != 0 {
            len += 1;
        }
        if self.base_ejection_ms != 0 {
            len += 1;
        }
        if self.max_ejection_percent != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Outlier", len)?;
        if self.consecutive_failures != 0 {
            struct_ser.serialize_field("consecutiveFailures", &self.consecutive_failures)?;
        }
        if self.interval_ms != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("intervalMs", ToString::to_string(&self.interval_ms).as_str())?;
        }
        if self.base_ejection_ms != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("baseEjectionMs", ToString::to_string(&self.base_ejection_ms).as_str())?;
        }
        if self.max_ejection_percent != 0 {
            struct_ser.serialize_field("maxEjectionPercent", &self.max_ejection_percent)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Outlier {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "consecutive_failures",
            "consecutiveFailures",
            "interval_ms",
            "intervalMs",
            "base_ejection_ms",
            "baseEjectionMs",
            "max_ejection_percent",
            "maxEjectionPercent",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ConsecutiveFailures,
            IntervalMs,
            BaseEjectionMs,
            MaxEjectionPercent,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "consecutiveFailures" | "consecutive_failures" => Ok(GeneratedField::ConsecutiveFailures),
                            "intervalMs" | "interval_ms" => Ok(GeneratedField::IntervalMs),
                            "baseEjectionMs" | "base_ejection_ms" => Ok(GeneratedField::BaseEjectionMs),
                            "maxEjectionPercent" | "max_ejection_percent" => Ok(GeneratedField::MaxEjectionPercent),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Outlier;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Outlier")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Outlier, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut consecutive_failures__ = None;
                let mut interval_ms__ = None;
                let mut base_ejection_ms__ = None;
                let mut max_ejection_percent__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ConsecutiveFailures => {
                            if consecutive_failures__.is_some() {
                                return Err(serde::de::Error::duplicate_field("consecutiveFailures"));
                            }
                            consecutive_failures__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::IntervalMs => {
                            if interval_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("intervalMs"));
                            }
                            interval_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::BaseEjectionMs => {
                            if base_ejection_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("baseEjectionMs"));
                            }
                            base_ejection_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MaxEjectionPercent => {
                            if max_ejection_percent__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxEjectionPercent"));
                            }
                            max_ejection_percent__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(Outlier {
                    consecutive_failures: consecutive_failures__.unwrap_or_default(),
                    interval_ms: interval_ms__.unwrap_or_default(),
                    base_ejection_ms: base_ejection_ms__.unwrap_or_default(),
                    max_ejection_percent: max_ejection_percent__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Outlier", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PathMatch {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.kind != 0 {
            len += 1;
        }
        if !self.value.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.PathMatch", len)?;
        if self.kind != 0 {
            let v = PathMatchKind::try_from(self.kind)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.kind)))?;
            struct_ser.serialize_field("kind", &v)?;
        }
        if !self.value.is_empty() {
            struct_ser.serialize_field("value", &self.value)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for PathMatch {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "kind",
            "value",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Kind,
            Value,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "kind" => Ok(GeneratedField::Kind),
                            "value" => Ok(GeneratedField::Value),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = PathMatch;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.PathMatch")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PathMatch, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut kind__ = None;
                let mut value__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Kind => {
                            if kind__.is_some() {
                                return Err(serde::de::Error::duplicate_field("kind"));
                            }
                            kind__ = Some(map_.next_value::<PathMatchKind>()? as i32);
                        }
                        GeneratedField::Value => {
                            if value__.is_some() {
                                return Err(serde::de::Error::duplicate_field("value"));
                            }
                            value__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(PathMatch {
                    kind: kind__.unwrap_or_default(),
                    value: value__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.PathMatch", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PathMatchKind {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Prefix => "PATH_MATCH_KIND_PREFIX",
            Self::Exact => "PATH_MATCH_KIND_EXACT",
            Self::Regex => "PATH_MATCH_KIND_REGEX",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for PathMatchKind {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "PATH_MATCH_KIND_PREFIX",
            "PATH_MATCH_KIND_EXACT",
            "PATH_MATCH_KIND_REGEX",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = PathMatchKind;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "PATH_MATCH_KIND_PREFIX" => Ok(PathMatchKind::Prefix),
                    "PATH_MATCH_KIND_EXACT" => Ok(PathMatchKind::Exact),
                    "PATH_MATCH_KIND_REGEX" => Ok(PathMatchKind::Regex),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for PathModifier {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.kind != 0 {
            len += 1;
        }
        if !self.value.is_empty() {
            len += 1;
        }
        if !self.matched_prefix.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.PathModifier", len)?;
        if self.kind != 0 {
            let v = PathModifierKind::try_from(self.kind)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.kind)))?;
            struct_ser.serialize_field("kind", &v)?;
        }
        if !self.value.is_empty() {
            struct_ser.serialize_field("value", &self.value)?;
        }
        if !self.matched_prefix.is_empty() {
            struct_ser.serialize_field("matchedPrefix", &self.matched_prefix)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for PathModifier {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "kind",
            "value",
            "matched_prefix",
            "matchedPrefix",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Kind,
            Value,
            MatchedPrefix,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "kind" => Ok(GeneratedField::Kind),
                            "value" => Ok(GeneratedField::Value),
                            "matchedPrefix" | "matched_prefix" => Ok(GeneratedField::MatchedPrefix),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = PathModifier;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.PathModifier")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PathModifier, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut kind__ = None;
                let mut value__ = None;
                let mut matched_prefix__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Kind => {
                            if kind__.is_some() {
                                return Err(serde::de::Error::duplicate_field("kind"));
                            }
                            kind__ = Some(map_.next_value::<PathModifierKind>()? as i32);
                        }
                        GeneratedField::Value => {
                            if value__.is_some() {
                                return Err(serde::de::Error::duplicate_field("value"));
                            }
                            value__ = Some(map_.next_value()?);
                        }
                        GeneratedField::MatchedPrefix => {
                            if matched_prefix__.is_some() {
                                return Err(serde::de::Error::duplicate_field("matchedPrefix"));
                            }
                            matched_prefix__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(PathModifier {
                    kind: kind__.unwrap_or_default(),
                    value: value__.unwrap_or_default(),
                    matched_prefix: matched_prefix__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.PathModifier", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PathModifierKind {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Full => "PATH_MODIFIER_KIND_FULL",
            Self::Prefix => "PATH_MODIFIER_KIND_PREFIX",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for PathModifierKind {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "PATH_MODIFIER_KIND_FULL",
            "PATH_MODIFIER_KIND_PREFIX",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = PathModifierKind;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "PATH_MODIFIER_KIND_FULL" => Ok(PathModifierKind::Full),
                    "PATH_MODIFIER_KIND_PREFIX" => Ok(PathModifierKind::Prefix),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for PathNormalization {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Base => "PATH_NORMALIZATION_BASE",
            Self::None => "PATH_NORMALIZATION_NONE",
            Self::MergeSlashes => "PATH_NORMALIZATION_MERGE_SLASHES",
            Self::DecodeAndMergeSlashes => "PATH_NORMALIZATION_DECODE_AND_MERGE_SLASHES",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for PathNormalization {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "PATH_NORMALIZATION_BASE",
            "PATH_NORMALIZATION_NONE",
            "PATH_NORMALIZATION_MERGE_SLASHES",
            "PATH_NORMALIZATION_DECODE_AND_MERGE_SLASHES",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = PathNormalization;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "PATH_NORMALIZATION_BASE" => Ok(PathNormalization::Base),
                    "PATH_NORMALIZATION_NONE" => Ok(PathNormalization::None),
                    "PATH_NORMALIZATION_MERGE_SLASHES" => Ok(PathNormalization::MergeSlashes),
                    "PATH_NORMALIZATION_DECODE_AND_MERGE_SLASHES" => Ok(PathNormalization::DecodeAndMergeSlashes),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for PortMatch {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.ports.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.PortMatch", len)?;
        if !self.ports.is_empty() {
            struct_ser.serialize_field("ports", &self.ports)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for PortMatch {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "ports",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Ports,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "ports" => Ok(GeneratedField::Ports),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = PortMatch;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.PortMatch")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PortMatch, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut ports__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Ports => {
                            if ports__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ports"));
                            }
                            ports__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                    }
                }
                Ok(PortMatch {
                    ports: ports__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.PortMatch", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Protocol {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Http => "PROTOCOL_HTTP",
            Self::Tcp => "PROTOCOL_TCP",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for Protocol {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "PROTOCOL_HTTP",
            "PROTOCOL_TCP",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = Protocol;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "PROTOCOL_HTTP" => Ok(Protocol::Http),
                    "PROTOCOL_TCP" => Ok(Protocol::Tcp),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for ProxyMessage {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.message.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.ProxyMessage", len)?;
        if let Some(v) = self.message.as_ref() {
            match v {
                proxy_message::Message::Hello(v) => {
                    struct_ser.serialize_field("hello", v)?;
                }
                proxy_message::Message::Ack(v) => {
                    struct_ser.serialize_field("ack", v)?;
                }
                proxy_message::Message::Nack(v) => {
                    struct_ser.serialize_field("nack", v)?;
                }
                proxy_message::Message::Report(v) => {
                    struct_ser.serialize_field("report", v)?;
                }
                proxy_message::Message::Lookup(v) => {
                    struct_ser.serialize_field("lookup", v)?;
                }
            }
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ProxyMessage {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "hello",
            "ack",
            "nack",
            "report",
            "lookup",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Hello,
            Ack,
            Nack,
            Report,
            Lookup,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "hello" => Ok(GeneratedField::Hello),
                            "ack" => Ok(GeneratedField::Ack),
                            "nack" => Ok(GeneratedField::Nack),
                            "report" => Ok(GeneratedField::Report),
                            "lookup" => Ok(GeneratedField::Lookup),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ProxyMessage;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.ProxyMessage")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ProxyMessage, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut message__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Hello => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hello"));
                            }
                            message__ = map_.next_value::<::std::option::Option<_>>()?.map(proxy_message::Message::Hello)
;
                        }
                        GeneratedField::Ack => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ack"));
                            }
                            message__ = map_.next_value::<::std::option::Option<_>>()?.map(proxy_message::Message::Ack)
;
                        }
                        GeneratedField::Nack => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nack"));
                            }
                            message__ = map_.next_value::<::std::option::Option<_>>()?.map(proxy_message::Message::Nack)
;
                        }
                        GeneratedField::Report => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("report"));
                            }
                            message__ = map_.next_value::<::std::option::Option<_>>()?.map(proxy_message::Message::Report)
;
                        }
                        GeneratedField::Lookup => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("lookup"));
                            }
                            message__ = map_.next_value::<::std::option::Option<_>>()?.map(proxy_message::Message::Lookup)
;
                        }
                    }
                }
                Ok(ProxyMessage {
                    message: message__,
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.ProxyMessage", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RateLimit {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.service.is_empty() {
            len += 1;
        }
        if !self.setting.is_empty() {
            len += 1;
        }
        if self.requests != 0 {
            len += 1;
        }
        if self.fill_interval_ms != 0 {
            len += 1;
        }
        if self.burst != 0 {
            len += 1;
        }
        if self.status != 0 {
            len += 1;
        }
        if !self.headers.is_empty() {
            len += 1;
        }
        if self.scope != 0 {
            len += 1;
        }
        if !self.path_regex.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.RateLimit", len)?;
        if !self.service.is_empty() {
            struct_ser.serialize_field("service", &self.service)?;
        }
        if !self.setting.is_empty() {
            struct_ser.serialize_field("setting", &self.setting)?;
        }
        if self.requests != 0 {
            struct_ser.serialize_field("requests", &self.requests)?;
        }
        if self.fill_interval_ms != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("fillIntervalMs", ToString::to_string(&self.fill_interval_ms).as_str())?;
        }
        if self.burst != 0 {
            struct_ser.serialize_field("burst", &self.burst)?;
        }
        if self.status != 0 {
            struct_ser.serialize_field("status", &self.status)?;
        }
        if !self.headers.is_empty() {
            struct_ser.serialize_field("headers", &self.headers)?;
        }
        if self.scope != 0 {
            let v = RateLimitScope::try_from(self.scope)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.scope)))?;
            struct_ser.serialize_field("scope", &v)?;
        }
        if !self.path_regex.is_empty() {
            struct_ser.serialize_field("pathRegex", &self.path_regex)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RateLimit {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "service",
            "setting",
            "requests",
            "fill_interval_ms",
            "fillIntervalMs",
            "burst",
            "status",
            "headers",
            "scope",
            "path_regex",
            "pathRegex",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Service,
            Setting,
            Requests,
            FillIntervalMs,
            Burst,
            Status,
            Headers,
            Scope,
            PathRegex,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "service" => Ok(GeneratedField::Service),
                            "setting" => Ok(GeneratedField::Setting),
                            "requests" => Ok(GeneratedField::Requests),
                            "fillIntervalMs" | "fill_interval_ms" => Ok(GeneratedField::FillIntervalMs),
                            "burst" => Ok(GeneratedField::Burst),
                            "status" => Ok(GeneratedField::Status),
                            "headers" => Ok(GeneratedField::Headers),
                            "scope" => Ok(GeneratedField::Scope),
                            "pathRegex" | "path_regex" => Ok(GeneratedField::PathRegex),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RateLimit;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.RateLimit")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RateLimit, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut service__ = None;
                let mut setting__ = None;
                let mut requests__ = None;
                let mut fill_interval_ms__ = None;
                let mut burst__ = None;
                let mut status__ = None;
                let mut headers__ = None;
                let mut scope__ = None;
                let mut path_regex__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Service => {
                            if service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("service"));
                            }
                            service__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Setting => {
                            if setting__.is_some() {
                                return Err(serde::de::Error::duplicate_field("setting"));
                            }
                            setting__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Requests => {
                            if requests__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requests"));
                            }
                            requests__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::FillIntervalMs => {
                            if fill_interval_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("fillIntervalMs"));
                            }
                            fill_interval_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Burst => {
                            if burst__.is_some() {
                                return Err(serde::de::Error::duplicate_field("burst"));
                            }
                            burst__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Status => {
                            if status__.is_some() {
                                return Err(serde::de::Error::duplicate_field("status"));
                            }
                            status__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Headers => {
                            if headers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("headers"));
                            }
                            headers__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Scope => {
                            if scope__.is_some() {
                                return Err(serde::de::Error::duplicate_field("scope"));
                            }
                            scope__ = Some(map_.next_value::<RateLimitScope>()? as i32);
                        }
                        GeneratedField::PathRegex => {
                            if path_regex__.is_some() {
                                return Err(serde::de::Error::duplicate_field("pathRegex"));
                            }
                            path_regex__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(RateLimit {
                    service: service__.unwrap_or_default(),
                    setting: setting__.unwrap_or_default(),
                    requests: requests__.unwrap_or_default(),
                    fill_interval_ms: fill_interval_ms__.unwrap_or_default(),
                    burst: burst__.unwrap_or_default(),
                    status: status__.unwrap_or_default(),
                    headers: headers__.unwrap_or_default(),
                    scope: scope__.unwrap_or_default(),
                    path_regex: path_regex__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.RateLimit", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RateLimitScope {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Http => "RATE_LIMIT_SCOPE_HTTP",
            Self::Tcp => "RATE_LIMIT_SCOPE_TCP",
            Self::Route => "RATE_LIMIT_SCOPE_ROUTE",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for RateLimitScope {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "RATE_LIMIT_SCOPE_HTTP",
            "RATE_LIMIT_SCOPE_TCP",
            "RATE_LIMIT_SCOPE_ROUTE",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = RateLimitScope;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "RATE_LIMIT_SCOPE_HTTP" => Ok(RateLimitScope::Http),
                    "RATE_LIMIT_SCOPE_TCP" => Ok(RateLimitScope::Tcp),
                    "RATE_LIMIT_SCOPE_ROUTE" => Ok(RateLimitScope::Route),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Redirect {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.scheme.is_empty() {
            len += 1;
        }
        if !self.hostname.is_empty() {
            len += 1;
        }
        if self.path.is_some() {
            len += 1;
        }
        if self.port != 0 {
            len += 1;
        }
        if self.status != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Redirect", len)?;
        if !self.scheme.is_empty() {
            struct_ser.serialize_field("scheme", &self.scheme)?;
        }
        if !self.hostname.is_empty() {
            struct_ser.serialize_field("hostname", &self.hostname)?;
        }
        if let Some(v) = self.path.as_ref() {
            struct_ser.serialize_field("path", v)?;
        }
        if self.port != 0 {
            struct_ser.serialize_field("port", &self.port)?;
        }
        if self.status != 0 {
            struct_ser.serialize_field("status", &self.status)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Redirect {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "scheme",
            "hostname",
            "path",
            "port",
            "status",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Scheme,
            Hostname,
            Path,
            Port,
            Status,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "scheme" => Ok(GeneratedField::Scheme),
                            "hostname" => Ok(GeneratedField::Hostname),
                            "path" => Ok(GeneratedField::Path),
                            "port" => Ok(GeneratedField::Port),
                            "status" => Ok(GeneratedField::Status),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Redirect;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Redirect")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Redirect, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut scheme__ = None;
                let mut hostname__ = None;
                let mut path__ = None;
                let mut port__ = None;
                let mut status__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Scheme => {
                            if scheme__.is_some() {
                                return Err(serde::de::Error::duplicate_field("scheme"));
                            }
                            scheme__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Hostname => {
                            if hostname__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hostname"));
                            }
                            hostname__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Path => {
                            if path__.is_some() {
                                return Err(serde::de::Error::duplicate_field("path"));
                            }
                            path__ = map_.next_value()?;
                        }
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Status => {
                            if status__.is_some() {
                                return Err(serde::de::Error::duplicate_field("status"));
                            }
                            status__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(Redirect {
                    scheme: scheme__.unwrap_or_default(),
                    hostname: hostname__.unwrap_or_default(),
                    path: path__,
                    port: port__.unwrap_or_default(),
                    status: status__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Redirect", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Refused {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.reason.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Refused", len)?;
        if !self.reason.is_empty() {
            struct_ser.serialize_field("reason", &self.reason)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Refused {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "reason",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Reason,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "reason" => Ok(GeneratedField::Reason),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Refused;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Refused")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Refused, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut reason__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Reason => {
                            if reason__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reason"));
                            }
                            reason__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Refused {
                    reason: reason__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Refused", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RetryBudget {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.percent != 0. {
            len += 1;
        }
        if self.min_per_second != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.RetryBudget", len)?;
        if self.percent != 0. {
            struct_ser.serialize_field("percent", &self.percent)?;
        }
        if self.min_per_second != 0 {
            struct_ser.serialize_field("minPerSecond", &self.min_per_second)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RetryBudget {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "percent",
            "min_per_second",
            "minPerSecond",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Percent,
            MinPerSecond,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "percent" => Ok(GeneratedField::Percent),
                            "minPerSecond" | "min_per_second" => Ok(GeneratedField::MinPerSecond),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RetryBudget;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.RetryBudget")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RetryBudget, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut percent__ = None;
                let mut min_per_second__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Percent => {
                            if percent__.is_some() {
                                return Err(serde::de::Error::duplicate_field("percent"));
                            }
                            percent__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MinPerSecond => {
                            if min_per_second__.is_some() {
                                return Err(serde::de::Error::duplicate_field("minPerSecond"));
                            }
                            min_per_second__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(RetryBudget {
                    percent: percent__.unwrap_or_default(),
                    min_per_second: min_per_second__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.RetryBudget", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RetryPolicy {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.codes.is_empty() {
            len += 1;
        }
        if self.attempts != 0 {
            len += 1;
        }
        if self.backoff_ms.is_some() {
            len += 1;
        }
        if self.per_try_timeout_ms != 0 {
            len += 1;
        }
        if self.max_backoff_ms != 0 {
            len += 1;
        }
        if self.status_only {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.RetryPolicy", len)?;
        if !self.codes.is_empty() {
            struct_ser.serialize_field("codes", &self.codes)?;
        }
        if self.attempts != 0 {
            struct_ser.serialize_field("attempts", &self.attempts)?;
        }
        if let Some(v) = self.backoff_ms.as_ref() {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("backoffMs", ToString::to_string(&v).as_str())?;
        }
        if self.per_try_timeout_ms != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("perTryTimeoutMs", ToString::to_string(&self.per_try_timeout_ms).as_str())?;
        }
        if self.max_backoff_ms != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("maxBackoffMs", ToString::to_string(&self.max_backoff_ms).as_str())?;
        }
        if self.status_only {
            struct_ser.serialize_field("statusOnly", &self.status_only)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RetryPolicy {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "codes",
            "attempts",
            "backoff_ms",
            "backoffMs",
            "per_try_timeout_ms",
            "perTryTimeoutMs",
            "max_backoff_ms",
            "maxBackoffMs",
            "status_only",
            "statusOnly",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Codes,
            Attempts,
            BackoffMs,
            PerTryTimeoutMs,
            MaxBackoffMs,
            StatusOnly,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "codes" => Ok(GeneratedField::Codes),
                            "attempts" => Ok(GeneratedField::Attempts),
                            "backoffMs" | "backoff_ms" => Ok(GeneratedField::BackoffMs),
                            "perTryTimeoutMs" | "per_try_timeout_ms" => Ok(GeneratedField::PerTryTimeoutMs),
                            "maxBackoffMs" | "max_backoff_ms" => Ok(GeneratedField::MaxBackoffMs),
                            "statusOnly" | "status_only" => Ok(GeneratedField::StatusOnly),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RetryPolicy;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.RetryPolicy")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RetryPolicy, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut codes__ = None;
                let mut attempts__ = None;
                let mut backoff_ms__ = None;
                let mut per_try_timeout_ms__ = None;
                let mut max_backoff_ms__ = None;
                let mut status_only__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Codes => {
                            if codes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("codes"));
                            }
                            codes__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::Attempts => {
                            if attempts__.is_some() {
                                return Err(serde::de::Error::duplicate_field("attempts"));
                            }
                            attempts__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::BackoffMs => {
                            if backoff_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("backoffMs"));
                            }
                            backoff_ms__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::PerTryTimeoutMs => {
                            if per_try_timeout_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("perTryTimeoutMs"));
                            }
                            per_try_timeout_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MaxBackoffMs => {
                            if max_backoff_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxBackoffMs"));
                            }
                            max_backoff_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::StatusOnly => {
                            if status_only__.is_some() {
                                return Err(serde::de::Error::duplicate_field("statusOnly"));
                            }
                            status_only__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(RetryPolicy {
                    codes: codes__.unwrap_or_default(),
                    attempts: attempts__.unwrap_or_default(),
                    backoff_ms: backoff_ms__,
                    per_try_timeout_ms: per_try_timeout_ms__.unwrap_or_default(),
                    max_backoff_ms: max_backoff_ms__.unwrap_or_default(),
                    status_only: status_only__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.RetryPolicy", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Rewrite {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.hostname.is_empty() {
            len += 1;
        }
        if self.path.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Rewrite", len)?;
        if !self.hostname.is_empty() {
            struct_ser.serialize_field("hostname", &self.hostname)?;
        }
        if let Some(v) = self.path.as_ref() {
            struct_ser.serialize_field("path", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Rewrite {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "hostname",
            "path",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Hostname,
            Path,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "hostname" => Ok(GeneratedField::Hostname),
                            "path" => Ok(GeneratedField::Path),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Rewrite;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Rewrite")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Rewrite, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut hostname__ = None;
                let mut path__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Hostname => {
                            if hostname__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hostname"));
                            }
                            hostname__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Path => {
                            if path__.is_some() {
                                return Err(serde::de::Error::duplicate_field("path"));
                            }
                            path__ = map_.next_value()?;
                        }
                    }
                }
                Ok(Rewrite {
                    hostname: hostname__.unwrap_or_default(),
                    path: path__,
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Rewrite", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RouteMatch {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.rule != 0 {
            len += 1;
        }
        if self.path.is_some() {
            len += 1;
        }
        if !self.method.is_empty() {
            len += 1;
        }
        if !self.headers.is_empty() {
            len += 1;
        }
        if !self.query_params.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.RouteMatch", len)?;
        if self.rule != 0 {
            struct_ser.serialize_field("rule", &self.rule)?;
        }
        if let Some(v) = self.path.as_ref() {
            struct_ser.serialize_field("path", v)?;
        }
        if !self.method.is_empty() {
            struct_ser.serialize_field("method", &self.method)?;
        }
        if !self.headers.is_empty() {
            struct_ser.serialize_field("headers", &self.headers)?;
        }
        if !self.query_params.is_empty() {
            struct_ser.serialize_field("queryParams", &self.query_params)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RouteMatch {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "rule",
            "path",
            "method",
            "headers",
            "query_params",
            "queryParams",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Rule,
            Path,
            Method,
            Headers,
            QueryParams,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "rule" => Ok(GeneratedField::Rule),
                            "path" => Ok(GeneratedField::Path),
                            "method" => Ok(GeneratedField::Method),
                            "headers" => Ok(GeneratedField::Headers),
                            "queryParams" | "query_params" => Ok(GeneratedField::QueryParams),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RouteMatch;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.RouteMatch")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RouteMatch, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut rule__ = None;
                let mut path__ = None;
                let mut method__ = None;
                let mut headers__ = None;
                let mut query_params__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Rule => {
                            if rule__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rule"));
                            }
                            rule__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Path => {
                            if path__.is_some() {
                                return Err(serde::de::Error::duplicate_field("path"));
                            }
                            path__ = map_.next_value()?;
                        }
                        GeneratedField::Method => {
                            if method__.is_some() {
                                return Err(serde::de::Error::duplicate_field("method"));
                            }
                            method__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Headers => {
                            if headers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("headers"));
                            }
                            headers__ = Some(map_.next_value()?);
                        }
                        GeneratedField::QueryParams => {
                            if query_params__.is_some() {
                                return Err(serde::de::Error::duplicate_field("queryParams"));
                            }
                            query_params__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(RouteMatch {
                    rule: rule__.unwrap_or_default(),
                    path: path__,
                    method: method__.unwrap_or_default(),
                    headers: headers__.unwrap_or_default(),
                    query_params: query_params__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.RouteMatch", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RouteRule {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.backends.is_empty() {
            len += 1;
        }
        if self.request_headers.is_some() {
            len += 1;
        }
        if self.response_headers.is_some() {
            len += 1;
        }
        if self.redirect.is_some() {
            len += 1;
        }
        if self.rewrite.is_some() {
            len += 1;
        }
        if self.request_timeout_ms.is_some() {
            len += 1;
        }
        if self.backend_timeout_ms != 0 {
            len += 1;
        }
        if self.retry.is_some() {
            len += 1;
        }
        if !self.mirrors.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.RouteRule", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.backends.is_empty() {
            struct_ser.serialize_field("backends", &self.backends)?;
        }
        if let Some(v) = self.request_headers.as_ref() {
            struct_ser.serialize_field("requestHeaders", v)?;
        }
        if let Some(v) = self.response_headers.as_ref() {
            struct_ser.serialize_field("responseHeaders", v)?;
        }
        if let Some(v) = self.redirect.as_ref() {
            struct_ser.serialize_field("redirect", v)?;
        }
        if let Some(v) = self.rewrite.as_ref() {
            struct_ser.serialize_field("rewrite", v)?;
        }
        if let Some(v) = self.request_timeout_ms.as_ref() {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("requestTimeoutMs", ToString::to_string(&v).as_str())?;
        }
        if self.backend_timeout_ms != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("backendTimeoutMs", ToString::to_string(&self.backend_timeout_ms).as_str())?;
        }
        if let Some(v) = self.retry.as_ref() {
            struct_ser.serialize_field("retry", v)?;
        }
        if !self.mirrors.is_empty() {
            struct_ser.serialize_field("mirrors", &self.mirrors)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RouteRule {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "backends",
            "request_headers",
            "requestHeaders",
            "response_headers",
            "responseHeaders",
            "redirect",
            "rewrite",
            "request_timeout_ms",
            "requestTimeoutMs",
            "backend_timeout_ms",
            "backendTimeoutMs",
            "retry",
            "mirrors",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Backends,
            RequestHeaders,
            ResponseHeaders,
            Redirect,
            Rewrite,
            RequestTimeoutMs,
            BackendTimeoutMs,
            Retry,
            Mirrors,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "backends" => Ok(GeneratedField::Backends),
                            "requestHeaders" | "request_headers" => Ok(GeneratedField::RequestHeaders),
                            "responseHeaders" | "response_headers" => Ok(GeneratedField::ResponseHeaders),
                            "redirect" => Ok(GeneratedField::Redirect),
                            "rewrite" => Ok(GeneratedField::Rewrite),
                            "requestTimeoutMs" | "request_timeout_ms" => Ok(GeneratedField::RequestTimeoutMs),
                            "backendTimeoutMs" | "backend_timeout_ms" => Ok(GeneratedField::BackendTimeoutMs),
                            "retry" => Ok(GeneratedField::Retry),
                            "mirrors" => Ok(GeneratedField::Mirrors),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RouteRule;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.RouteRule")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RouteRule, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut backends__ = None;
                let mut request_headers__ = None;
                let mut response_headers__ = None;
                let mut redirect__ = None;
                let mut rewrite__ = None;
                let mut request_timeout_ms__ = None;
                let mut backend_timeout_ms__ = None;
                let mut retry__ = None;
                let mut mirrors__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Backends => {
                            if backends__.is_some() {
                                return Err(serde::de::Error::duplicate_field("backends"));
                            }
                            backends__ = Some(map_.next_value()?);
                        }
                        GeneratedField::RequestHeaders => {
                            if request_headers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requestHeaders"));
                            }
                            request_headers__ = map_.next_value()?;
                        }
                        GeneratedField::ResponseHeaders => {
                            if response_headers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("responseHeaders"));
                            }
                            response_headers__ = map_.next_value()?;
                        }
                        GeneratedField::Redirect => {
                            if redirect__.is_some() {
                                return Err(serde::de::Error::duplicate_field("redirect"));
                            }
                            redirect__ = map_.next_value()?;
                        }
                        GeneratedField::Rewrite => {
                            if rewrite__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rewrite"));
                            }
                            rewrite__ = map_.next_value()?;
                        }
                        GeneratedField::RequestTimeoutMs => {
                            if request_timeout_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requestTimeoutMs"));
                            }
                            request_timeout_ms__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::BackendTimeoutMs => {
                            if backend_timeout_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("backendTimeoutMs"));
                            }
                            backend_timeout_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Retry => {
                            if retry__.is_some() {
                                return Err(serde::de::Error::duplicate_field("retry"));
                            }
                            retry__ = map_.next_value()?;
                        }
                        GeneratedField::Mirrors => {
                            if mirrors__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mirrors"));
                            }
                            mirrors__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(RouteRule {
                    name: name__.unwrap_or_default(),
                    backends: backends__.unwrap_or_default(),
                    request_headers: request_headers__,
                    response_headers: response_headers__,
                    redirect: redirect__,
                    rewrite: rewrite__,
                    request_timeout_ms: request_timeout_ms__,
                    backend_timeout_ms: backend_timeout_ms__.unwrap_or_default(),
                    retry: retry__,
                    mirrors: mirrors__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.RouteRule", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RouteTable {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.port != 0 {
            len += 1;
        }
        if !self.matches.is_empty() {
            len += 1;
        }
        if !self.rules.is_empty() {
            len += 1;
        }
        if !self.consumer_namespace.is_empty() {
            len += 1;
        }
        if self.grpc {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.RouteTable", len)?;
        if self.port != 0 {
            struct_ser.serialize_field("port", &self.port)?;
        }
        if !self.matches.is_empty() {
            struct_ser.serialize_field("matches", &self.matches)?;
        }
        if !self.rules.is_empty() {
            struct_ser.serialize_field("rules", &self.rules)?;
        }
        if !self.consumer_namespace.is_empty() {
            struct_ser.serialize_field("consumerNamespace", &self.consumer_namespace)?;
        }
        if self.grpc {
            struct_ser.serialize_field("grpc", &self.grpc)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RouteTable {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "port",
            "matches",
            "rules",
            "consumer_namespace",
            "consumerNamespace",
            "grpc",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Port,
            Matches,
            Rules,
            ConsumerNamespace,
            Grpc,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "port" => Ok(GeneratedField::Port),
                            "matches" => Ok(GeneratedField::Matches),
                            "rules" => Ok(GeneratedField::Rules),
                            "consumerNamespace" | "consumer_namespace" => Ok(GeneratedField::ConsumerNamespace),
                            "grpc" => Ok(GeneratedField::Grpc),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RouteTable;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.RouteTable")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RouteTable, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut port__ = None;
                let mut matches__ = None;
                let mut rules__ = None;
                let mut consumer_namespace__ = None;
                let mut grpc__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Matches => {
                            if matches__.is_some() {
                                return Err(serde::de::Error::duplicate_field("matches"));
                            }
                            matches__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Rules => {
                            if rules__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rules"));
                            }
                            rules__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ConsumerNamespace => {
                            if consumer_namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("consumerNamespace"));
                            }
                            consumer_namespace__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Grpc => {
                            if grpc__.is_some() {
                                return Err(serde::de::Error::duplicate_field("grpc"));
                            }
                            grpc__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(RouteTable {
                    port: port__.unwrap_or_default(),
                    matches: matches__.unwrap_or_default(),
                    rules: rules__.unwrap_or_default(),
                    consumer_namespace: consumer_namespace__.unwrap_or_default(),
                    grpc: grpc__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.RouteTable", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Service {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.namespace.is_empty() {
            len += 1;
        }
        if !self.extra_hostnames.is_empty() {
            len += 1;
        }
        if !self.cluster_ips.is_empty() {
            len += 1;
        }
        if !self.ports.is_empty() {
            len += 1;
        }
        if !self.endpoints.is_empty() {
            len += 1;
        }
        if self.split.is_some() {
            len += 1;
        }
        if !self.routes.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Service", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.namespace.is_empty() {
            struct_ser.serialize_field("namespace", &self.namespace)?;
        }
        if !self.extra_hostnames.is_empty() {
            struct_ser.serialize_field("extraHostnames", &self.extra_hostnames)?;
        }
        if !self.cluster_ips.is_empty() {
            struct_ser.serialize_field("clusterIps", &self.cluster_ips)?;
        }
        if !self.ports.is_empty() {
            struct_ser.serialize_field("ports", &self.ports)?;
        }
        if !self.endpoints.is_empty() {
            struct_ser.serialize_field("endpoints", &self.endpoints)?;
        }
        if let Some(v) = self.split.as_ref() {
            struct_ser.serialize_field("split", v)?;
        }
        if !self.routes.is_empty() {
            struct_ser.serialize_field("routes", &self.routes)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Service {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "namespace",
            "extra_hostnames",
            "extraHostnames",
            "cluster_ips",
            "clusterIps",
            "ports",
            "endpoints",
            "split",
            "routes",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Namespace,
            ExtraHostnames,
            ClusterIps,
            Ports,
            Endpoints,
            Split,
            Routes,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "namespace" => Ok(GeneratedField::Namespace),
                            "extraHostnames" | "extra_hostnames" => Ok(GeneratedField::ExtraHostnames),
                            "clusterIps" | "cluster_ips" => Ok(GeneratedField::ClusterIps),
                            "ports" => Ok(GeneratedField::Ports),
                            "endpoints" => Ok(GeneratedField::Endpoints),
                            "split" => Ok(GeneratedField::Split),
                            "routes" => Ok(GeneratedField::Routes),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Service;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Service")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Service, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut namespace__ = None;
                let mut extra_hostnames__ = None;
                let mut cluster_ips__ = None;
                let mut ports__ = None;
                let mut endpoints__ = None;
                let mut split__ = None;
                let mut routes__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Namespace => {
                            if namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespace"));
                            }
                            namespace__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ExtraHostnames => {
                            if extra_hostnames__.is_some() {
                                return Err(serde::de::Error::duplicate_field("extraHostnames"));
                            }
                            extra_hostnames__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ClusterIps => {
                            if cluster_ips__.is_some() {
                                return Err(serde::de::Error::duplicate_field("clusterIps"));
                            }
                            cluster_ips__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ports => {
                            if ports__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ports"));
                            }
                            ports__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Endpoints => {
                            if endpoints__.is_some() {
                                return Err(serde::de::Error::duplicate_field("endpoints"));
                            }
                            endpoints__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Split => {
                            if split__.is_some() {
                                return Err(serde::de::Error::duplicate_field("split"));
                            }
                            split__ = map_.next_value()?;
                        }
                        GeneratedField::Routes => {
                            if routes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("routes"));
                            }
                            routes__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Service {
                    name: name__.unwrap_or_default(),
                    namespace: namespace__.unwrap_or_default(),
                    extra_hostnames: extra_hostnames__.unwrap_or_default(),
                    cluster_ips: cluster_ips__.unwrap_or_default(),
                    ports: ports__.unwrap_or_default(),
                    endpoints: endpoints__.unwrap_or_default(),
                    split: split__,
                    routes: routes__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Service", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ServicePort {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.port != 0 {
            len += 1;
        }
        if self.protocol != 0 {
            len += 1;
        }
        if self.local_port != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.ServicePort", len)?;
        if self.port != 0 {
            struct_ser.serialize_field("port", &self.port)?;
        }
        if self.protocol != 0 {
            let v = Protocol::try_from(self.protocol)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.protocol)))?;
            struct_ser.serialize_field("protocol", &v)?;
        }
        if self.local_port != 0 {
            struct_ser.serialize_field("localPort", &self.local_port)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ServicePort {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "port",
            "protocol",
            "local_port",
            "localPort",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Port,
            Protocol,
            LocalPort,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "port" => Ok(GeneratedField::Port),
                            "protocol" => Ok(GeneratedField::Protocol),
                            "localPort" | "local_port" => Ok(GeneratedField::LocalPort),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ServicePort;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.ServicePort")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ServicePort, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut port__ = None;
                let mut protocol__ = None;
                let mut local_port__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Protocol => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("protocol"));
                            }
                            protocol__ = Some(map_.next_value::<Protocol>()? as i32);
                        }
                        GeneratedField::LocalPort => {
                            if local_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("localPort"));
                            }
                            local_port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(ServicePort {
                    port: port__.unwrap_or_default(),
                    protocol: protocol__.unwrap_or_default(),
                    local_port: local_port__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.ServicePort", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Snapshot {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.version.is_empty() {
            len += 1;
        }
        if self.workload.is_some() {
            len += 1;
        }
        if self.mesh.is_some() {
            len += 1;
        }
        if !self.inbound_rules.is_empty() {
            len += 1;
        }
        if !self.services.is_empty() {
            len += 1;
        }
        if !self.client_policies.is_empty() {
            len += 1;
        }
        if !self.egress.is_empty() {
            len += 1;
        }
        if self.trust.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Snapshot", len)?;
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        if let Some(v) = self.workload.as_ref() {
            struct_ser.serialize_field("workload", v)?;
        }
        if let Some(v) = self.mesh.as_ref() {
            struct_ser.serialize_field("mesh", v)?;
        }
        if !self.inbound_rules.is_empty() {
            struct_ser.serialize_field("inboundRules", &self.inbound_rules)?;
        }
        if !self.services.is_empty() {
            struct_ser.serialize_field("services", &self.services)?;
        }
        if !self.client_policies.is_empty() {
            struct_ser.serialize_field("clientPolicies", &self.client_policies)?;
        }
        if !self.egress.is_empty() {
            struct_ser.serialize_field("egress", &self.egress)?;
        }
        if let Some(v) = self.trust.as_ref() {
            struct_ser.serialize_field("trust", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Snapshot {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "version",
            "workload",
            "mesh",
            "inbound_rules",
            "inboundRules",
            "services",
            "client_policies",
            "clientPolicies",
            "egress",
            "trust",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Version,
            Workload,
            Mesh,
            InboundRules,
            Services,
            ClientPolicies,
            Egress,
            Trust,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "version" => Ok(GeneratedField::Version),
                            "workload" => Ok(GeneratedField::Workload),
                            "mesh" => Ok(GeneratedField::Mesh),
                            "inboundRules" | "inbound_rules" => Ok(GeneratedField::InboundRules),
                            "services" => Ok(GeneratedField::Services),
                            "clientPolicies" | "client_policies" => Ok(GeneratedField::ClientPolicies),
                            "egress" => Ok(GeneratedField::Egress),
                            "trust" => Ok(GeneratedField::Trust),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Snapshot;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Snapshot")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Snapshot, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut version__ = None;
                let mut workload__ = None;
                let mut mesh__ = None;
                let mut inbound_rules__ = None;
                let mut services__ = None;
                let mut client_policies__ = None;
                let mut egress__ = None;
                let mut trust__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Workload => {
                            if workload__.is_some() {
                                return Err(serde::de::Error::duplicate_field("workload"));
                            }
                            workload__ = map_.next_value()?;
                        }
                        GeneratedField::Mesh => {
                            if mesh__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mesh"));
                            }
                            mesh__ = map_.next_value()?;
                        }
                        GeneratedField::InboundRules => {
                            if inbound_rules__.is_some() {
                                return Err(serde::de::Error::duplicate_field("inboundRules"));
                            }
                            inbound_rules__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Services => {
                            if services__.is_some() {
                                return Err(serde::de::Error::duplicate_field("services"));
                            }
                            services__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ClientPolicies => {
                            if client_policies__.is_some() {
                                return Err(serde::de::Error::duplicate_field("clientPolicies"));
                            }
                            client_policies__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Egress => {
                            if egress__.is_some() {
                                return Err(serde::de::Error::duplicate_field("egress"));
                            }
                            egress__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Trust => {
                            if trust__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trust"));
                            }
                            trust__ = map_.next_value()?;
                        }
                    }
                }
                Ok(Snapshot {
                    version: version__.unwrap_or_default(),
                    workload: workload__,
                    mesh: mesh__,
                    inbound_rules: inbound_rules__.unwrap_or_default(),
                    services: services__.unwrap_or_default(),
                    client_policies: client_policies__.unwrap_or_default(),
                    egress: egress__.unwrap_or_default(),
                    trust: trust__,
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Snapshot", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Split {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.traffic_split.is_empty() {
            len += 1;
        }
        if !self.backends.is_empty() {
            len += 1;
        }
        if !self.matches.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Split", len)?;
        if !self.traffic_split.is_empty() {
            struct_ser.serialize_field("trafficSplit", &self.traffic_split)?;
        }
        if !self.backends.is_empty() {
            struct_ser.serialize_field("backends", &self.backends)?;
        }
        if !self.matches.is_empty() {
            struct_ser.serialize_field("matches", &self.matches)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Split {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "traffic_split",
            "trafficSplit",
            "backends",
            "matches",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            TrafficSplit,
            Backends,
            Matches,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "trafficSplit" | "traffic_split" => Ok(GeneratedField::TrafficSplit),
                            "backends" => Ok(GeneratedField::Backends),
                            "matches" => Ok(GeneratedField::Matches),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Split;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Split")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Split, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut traffic_split__ = None;
                let mut backends__ = None;
                let mut matches__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::TrafficSplit => {
                            if traffic_split__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trafficSplit"));
                            }
                            traffic_split__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Backends => {
                            if backends__.is_some() {
                                return Err(serde::de::Error::duplicate_field("backends"));
                            }
                            backends__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Matches => {
                            if matches__.is_some() {
                                return Err(serde::de::Error::duplicate_field("matches"));
                            }
                            matches__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Split {
                    traffic_split: traffic_split__.unwrap_or_default(),
                    backends: backends__.unwrap_or_default(),
                    matches: matches__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Split", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TrafficCounter {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.service.is_empty() {
            len += 1;
        }
        if !self.namespace.is_empty() {
            len += 1;
        }
        if !self.backend.is_empty() {
            len += 1;
        }
        if self.requests != 0 {
            len += 1;
        }
        if self.failures != 0 {
            len += 1;
        }
        if !self.bucket_bounds_ms.is_empty() {
            len += 1;
        }
        if !self.bucket_counts.is_empty() {
            len += 1;
        }
        if self.retries != 0 {
            len += 1;
        }
        if self.retries_refused != 0 {
            len += 1;
        }
        if self.overflows != 0 {
            len += 1;
        }
        if self.faults_injected != 0 {
            len += 1;
        }
        if self.rate_limited != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.TrafficCounter", len)?;
        if !self.service.is_empty() {
            struct_ser.serialize_field("service", &self.service)?;
        }
        if !self.namespace.is_empty() {
            struct_ser.serialize_field("namespace", &self.namespace)?;
        }
        if !self.backend.is_empty() {
            struct_ser.serialize_field("backend", &self.backend)?;
        }
        if self.requests != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("requests", ToString::to_string(&self.requests).as_str())?;
        }
        if self.failures != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("failures", ToString::to_string(&self.failures).as_str())?;
        }
        if !self.bucket_bounds_ms.is_empty() {
            struct_ser.serialize_field("bucketBoundsMs", &self.bucket_bounds_ms)?;
        }
        if !self.bucket_counts.is_empty() {
            struct_ser.serialize_field("bucketCounts", &self.bucket_counts.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        }
        if self.retries != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("retries", ToString::to_string(&self.retries).as_str())?;
        }
        if self.retries_refused != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("retriesRefused", ToString::to_string(&self.retries_refused).as_str())?;
        }
        if self.overflows != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("overflows", ToString::to_string(&self.overflows).as_str())?;
        }
        if self.faults_injected != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("faultsInjected", ToString::to_string(&self.faults_injected).as_str())?;
        }
        if self.rate_limited != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("rateLimited", ToString::to_string(&self.rate_limited).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for TrafficCounter {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "service",
            "namespace",
            "backend",
            "requests",
            "failures",
            "bucket_bounds_ms",
            "bucketBoundsMs",
            "bucket_counts",
            "bucketCounts",
            "retries",
            "retries_refused",
            "retriesRefused",
            "overflows",
            "faults_injected",
            "faultsInjected",
            "rate_limited",
            "rateLimited",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Service,
            Namespace,
            Backend,
            Requests,
            Failures,
            BucketBoundsMs,
            BucketCounts,
            Retries,
            RetriesRefused,
            Overflows,
            FaultsInjected,
            RateLimited,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "service" => Ok(GeneratedField::Service),
                            "namespace" => Ok(GeneratedField::Namespace),
                            "backend" => Ok(GeneratedField::Backend),
                            "requests" => Ok(GeneratedField::Requests),
                            "failures" => Ok(GeneratedField::Failures),
                            "bucketBoundsMs" | "bucket_bounds_ms" => Ok(GeneratedField::BucketBoundsMs),
                            "bucketCounts" | "bucket_counts" => Ok(GeneratedField::BucketCounts),
                            "retries" => Ok(GeneratedField::Retries),
                            "retriesRefused" | "retries_refused" => Ok(GeneratedField::RetriesRefused),
                            "overflows" => Ok(GeneratedField::Overflows),
                            "faultsInjected" | "faults_injected" => Ok(GeneratedField::FaultsInjected),
                            "rateLimited" | "rate_limited" => Ok(GeneratedField::RateLimited),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = TrafficCounter;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.TrafficCounter")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<TrafficCounter, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut service__ = None;
                let mut namespace__ = None;
                let mut backend__ = None;
                let mut requests__ = None;
                let mut failures__ = None;
                let mut bucket_bounds_ms__ = None;
                let mut bucket_counts__ = None;
                let mut retries__ = None;
                let mut retries_refused__ = None;
                let mut overflows__ = None;
                let mut faults_injected__ = None;
                let mut rate_limited__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Service => {
                            if service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("service"));
                            }
                            service__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Namespace => {
                            if namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespace"));
                            }
                            namespace__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Backend => {
                            if backend__.is_some() {
                                return Err(serde::de::Error::duplicate_field("backend"));
                            }
                            backend__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Requests => {
                            if requests__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requests"));
                            }
                            requests__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Failures => {
                            if failures__.is_some() {
                                return Err(serde::de::Error::duplicate_field("failures"));
                            }
                            failures__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::BucketBoundsMs => {
                            if bucket_bounds_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bucketBoundsMs"));
                            }
                            bucket_bounds_ms__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::BucketCounts => {
                            if bucket_counts__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bucketCounts"));
                            }
                            bucket_counts__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::Retries => {
                            if retries__.is_some() {
                                return Err(serde::de::Error::duplicate_field("retries"));
                            }
                            retries__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::RetriesRefused => {
                            if retries_refused__.is_some() {
                                return Err(serde::de::Error::duplicate_field("retriesRefused"));
                            }
                            retries_refused__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Overflows => {
                            if overflows__.is_some() {
                                return Err(serde::de::Error::duplicate_field("overflows"));
                            }
                            overflows__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::FaultsInjected => {
                            if faults_injected__.is_some() {
                                return Err(serde::de::Error::duplicate_field("faultsInjected"));
                            }
                            faults_injected__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::RateLimited => {
                            if rate_limited__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rateLimited"));
                            }
                            rate_limited__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(TrafficCounter {
                    service: service__.unwrap_or_default(),
                    namespace: namespace__.unwrap_or_default(),
                    backend: backend__.unwrap_or_default(),
                    requests: requests__.unwrap_or_default(),
                    failures: failures__.unwrap_or_default(),
                    bucket_bounds_ms: bucket_bounds_ms__.unwrap_or_default(),
                    bucket_counts: bucket_counts__.unwrap_or_default(),
                    retries: retries__.unwrap_or_default(),
                    retries_refused: retries_refused__.unwrap_or_default(),
                    overflows: overflows__.unwrap_or_default(),
                    faults_injected: faults_injected__.unwrap_or_default(),
                    rate_limited: rate_limited__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.TrafficCounter", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TrafficPolicy {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Deny => "TRAFFIC_POLICY_DENY",
            Self::Permissive => "TRAFFIC_POLICY_PERMISSIVE",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for TrafficPolicy {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "TRAFFIC_POLICY_DENY",
            "TRAFFIC_POLICY_PERMISSIVE",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = TrafficPolicy;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "TRAFFIC_POLICY_DENY" => Ok(TrafficPolicy::Deny),
                    "TRAFFIC_POLICY_PERMISSIVE" => Ok(TrafficPolicy::Permissive),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for TrafficReport {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.counters.is_empty() {
            len += 1;
        }
        if !self.served.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.TrafficReport", len)?;
        if !self.counters.is_empty() {
            struct_ser.serialize_field("counters", &self.counters)?;
        }
        if !self.served.is_empty() {
            struct_ser.serialize_field("served", &self.served)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for TrafficReport {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "counters",
            "served",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Counters,
            Served,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "counters" => Ok(GeneratedField::Counters),
                            "served" => Ok(GeneratedField::Served),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = TrafficReport;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.TrafficReport")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<TrafficReport, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut counters__ = None;
                let mut served__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Counters => {
                            if counters__.is_some() {
                                return Err(serde::de::Error::duplicate_field("counters"));
                            }
                            counters__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Served => {
                            if served__.is_some() {
                                return Err(serde::de::Error::duplicate_field("served"));
                            }
                            served__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(TrafficReport {
                    counters: counters__.unwrap_or_default(),
                    served: served__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.TrafficReport", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TrustBundle {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.roots_pem.is_empty() {
            len += 1;
        }
        if !self.issuing_root.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.TrustBundle", len)?;
        if !self.roots_pem.is_empty() {
            struct_ser.serialize_field("rootsPem", &self.roots_pem)?;
        }
        if !self.issuing_root.is_empty() {
            struct_ser.serialize_field("issuingRoot", &self.issuing_root)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for TrustBundle {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "roots_pem",
            "rootsPem",
            "issuing_root",
            "issuingRoot",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            RootsPem,
            IssuingRoot,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "rootsPem" | "roots_pem" => Ok(GeneratedField::RootsPem),
                            "issuingRoot" | "issuing_root" => Ok(GeneratedField::IssuingRoot),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = TrustBundle;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.TrustBundle")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<TrustBundle, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut roots_pem__ = None;
                let mut issuing_root__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::RootsPem => {
                            if roots_pem__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rootsPem"));
                            }
                            roots_pem__ = Some(map_.next_value()?);
                        }
                        GeneratedField::IssuingRoot => {
                            if issuing_root__.is_some() {
                                return Err(serde::de::Error::duplicate_field("issuingRoot"));
                            }
                            issuing_root__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(TrustBundle {
                    roots_pem: roots_pem__.unwrap_or_default(),
                    issuing_root: issuing_root__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.TrustBundle", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ValueMatch {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.value.is_empty() {
            len += 1;
        }
        if self.regex {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.ValueMatch", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.value.is_empty() {
            struct_ser.serialize_field("value", &self.value)?;
        }
        if self.regex {
            struct_ser.serialize_field("regex", &self.regex)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ValueMatch {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "value",
            "regex",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Value,
            Regex,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "value" => Ok(GeneratedField::Value),
                            "regex" => Ok(GeneratedField::Regex),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ValueMatch;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.ValueMatch")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ValueMatch, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut value__ = None;
                let mut regex__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Value => {
                            if value__.is_some() {
                                return Err(serde::de::Error::duplicate_field("value"));
                            }
                            value__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Regex => {
                            if regex__.is_some() {
                                return Err(serde::de::Error::duplicate_field("regex"));
                            }
                            regex__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ValueMatch {
                    name: name__.unwrap_or_default(),
                    value: value__.unwrap_or_default(),
                    regex: regex__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.ValueMatch", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Workload {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.namespace.is_empty() {
            len += 1;
        }
        if !self.service_account.is_empty() {
            len += 1;
        }
        if !self.identity.is_empty() {
            len += 1;
        }
        if !self.services.is_empty() {
            len += 1;
        }
        if !self.ports.is_empty() {
            len += 1;
        }
        if !self.rate_limits.is_empty() {
            len += 1;
        }
        if !self.ingress.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("meshcd.v1.Workload", len)?;
        if !self.namespace.is_empty() {
            struct_ser.serialize_field("namespace", &self.namespace)?;
        }
        if !self.service_account.is_empty() {
            struct_ser.serialize_field("serviceAccount", &self.service_account)?;
        }
        if !self.identity.is_empty() {
            struct_ser.serialize_field("identity", &self.identity)?;
        }
        if !self.services.is_empty() {
            struct_ser.serialize_field("services", &self.services)?;
        }
        if !self.ports.is_empty() {
            struct_ser.serialize_field("ports", &self.ports)?;
        }
        if !self.rate_limits.is_empty() {
            struct_ser.serialize_field("rateLimits", &self.rate_limits)?;
        }
        if !self.ingress.is_empty() {
            struct_ser.serialize_field("ingress", &self.ingress)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Workload {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "namespace",
            "service_account",
            "serviceAccount",
            "identity",
            "services",
            "ports",
            "rate_limits",
            "rateLimits",
            "ingress",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Namespace,
            ServiceAccount,
            Identity,
            Services,
            Ports,
            RateLimits,
            Ingress,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "namespace" => Ok(GeneratedField::Namespace),
                            "serviceAccount" | "service_account" => Ok(GeneratedField::ServiceAccount),
                            "identity" => Ok(GeneratedField::Identity),
                            "services" => Ok(GeneratedField::Services),
                            "ports" => Ok(GeneratedField::Ports),
                            "rateLimits" | "rate_limits" => Ok(GeneratedField::RateLimits),
                            "ingress" => Ok(GeneratedField::Ingress),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Workload;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct meshcd.v1.Workload")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Workload, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut namespace__ = None;
                let mut service_account__ = None;
                let mut identity__ = None;
                let mut services__ = None;
                let mut ports__ = None;
                let mut rate_limits__ = None;
                let mut ingress__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Namespace => {
                            if namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespace"));
                            }
                            namespace__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ServiceAccount => {
                            if service_account__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serviceAccount"));
                            }
                            service_account__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Identity => {
                            if identity__.is_some() {
                                return Err(serde::de::Error::duplicate_field("identity"));
                            }
                            identity__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Services => {
                            if services__.is_some() {
                                return Err(serde::de::Error::duplicate_field("services"));
                            }
                            services__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ports => {
                            if ports__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ports"));
                            }
                            ports__ = Some(map_.next_value()?);
                        }
                        GeneratedField::RateLimits => {
                            if rate_limits__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rateLimits"));
                            }
                            rate_limits__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ingress => {
                            if ingress__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ingress"));
                            }
                            ingress__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Workload {
                    namespace: namespace__.unwrap_or_default(),
                    service_account: service_account__.unwrap_or_default(),
                    identity: identity__.unwrap_or_default(),
                    services: services__.unwrap_or_default(),
                    ports: ports__.unwrap_or_default(),
                    rate_limits: rate_limits__.unwrap_or_default(),
                    ingress: ingress__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("meshcd.v1.Workload", FIELDS, GeneratedVisitor)
    }
}
