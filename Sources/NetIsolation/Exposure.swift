import Addressing

/// What the gateway exposes and reaches, as isolation needs to know it: the endpoints' service
/// addresses with the sources allowed to use them, and the pools' targets. The Gateway fills this
/// in from the configuration; NetIsolation knows nothing of DNS beyond these ports.
public struct Exposure: Sendable {
    public var endpoints: [EndpointExposure]
    public var targets: [TargetExposure]

    public init(endpoints: [EndpointExposure], targets: [TargetExposure]) {
        self.endpoints = endpoints; self.targets = targets
    }
}

/// A layer-4 service: the protocols and one port.
public struct Service: Hashable, Sendable {
    public enum Transport: String, Sendable { case udp, tcp }
    public var transport: Transport
    public var port: UInt16

    public init(_ transport: Transport, _ port: UInt16) { self.transport = transport; self.port = port }
}

public struct EndpointExposure: Sendable {
    public var name: String
    /// Each address with the services it offers there (do53: UDP and TCP on its port; DoT: TCP
    /// 853; DoH: TCP 443).
    public var listeners: [(ip: IPAddress, services: [Service])]
    public var allow: [CIDR]

    public init(name: String, listeners: [(ip: IPAddress, services: [Service])], allow: [CIDR]) {
        self.name = name; self.listeners = listeners; self.allow = allow
    }
}

public struct TargetExposure: Sendable {
    public var pool: String
    public var address: SocketAddress
    /// UDP and TCP for do53; TCP alone for DoT and DoH.
    public var transports: [Service.Transport]

    public init(pool: String, address: SocketAddress, transports: [Service.Transport]) {
        self.pool = pool; self.address = address; self.transports = transports
    }
}
