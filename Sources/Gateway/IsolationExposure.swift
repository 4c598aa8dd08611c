import Addressing
import Forwarder
import NetIsolation

/// What isolation needs of the configuration: each endpoint's listeners and allow list, and every
/// pool's targets with the transports they are reached over.
extension GatewayConfig {
    var exposure: Exposure {
        let endpoints = self.endpoints.map { e in
            EndpointExposure(name: e.name, listeners: e.addresses.map { a in
                (ip: a.value.ip, services: e.protocols.flatMap { services($0, port: a.value.port) })
            }, allow: e.allow)
        }
        let targets = pools.flatMap { pool in
            pool.targets.map { t in
                TargetExposure(pool: pool.name, address: t.spec.address,
                               transports: t.spec.transport == .do53 ? [.udp, .tcp] : [.tcp])
            }
        }
        return Exposure(endpoints: endpoints, targets: targets)
    }

    /// do53 on the address's own port; DoT and DoH on their standard ports of the same address.
    private func services(_ t: Transport, port: UInt16) -> [Service] {
        switch t {
        case .do53: return [Service(.udp, port), Service(.tcp, port)]
        case .dot, .doh: return [Service(.tcp, t.defaultPort)]
        }
    }

    /// The compiled table for this configuration (an empty policy when `isolation:` is absent).
    var ruleset: Ruleset {
        Compiler.compile(isolation?.value ?? IsolationPolicy(), exposure)
    }
}
