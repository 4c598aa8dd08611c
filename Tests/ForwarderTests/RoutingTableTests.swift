import Addressing
import DNSWire
import Forwarder
import Testing

/// PRODUCT.md's example, built directly.
func productTable() -> RoutingTable {
    let any = [try! CIDR(parsing: "0.0.0.0/0")]
    let endpoints = [
        EndpointSpec(name: "from-onprem", direction: .inbound, addresses: [], protocols: [.do53], allow: any,
                     sourceAddresses: [], systemPool: 1),
        EndpointSpec(name: "from-vpc", direction: .outbound, addresses: [], protocols: [.do53],
                     allow: [try! CIDR(parsing: "10.20.0.0/16")], sourceAddresses: [], systemPool: 1),
    ]
    let pools = [
        PoolSpec(name: "onprem-dc", targets: [TargetSpec(address: SocketAddress(ip: IPAddress("192.168.10.53")!, port: 53))]),
        PoolSpec(name: "vpc-resolver", targets: [TargetSpec(address: SocketAddress(ip: IPAddress("10.20.0.2")!, port: 53))]),
    ]
    let rules = [
        Rule(name: "corp", domain: n("corp.example"), action: .forward(pool: 0), endpoints: [1]),
        Rule(name: "corp-public", domain: n("public.corp.example"), action: .system, endpoints: [1]),
    ]
    return RoutingTable(endpoints: endpoints, pools: pools, rules: rules)
}

@Suite("routing")
struct RoutingTableTests {
    @Test func forwardSystemAndDefault() {
        let t = productTable()
        #expect(t.route(n("host.corp.example"), endpoint: 1) == .init(rule: 0, pool: 0))
        #expect(t.route(n("www.public.corp.example"), endpoint: 1) == .init(rule: 1, pool: 1))
        #expect(t.route(n("host.corp.example"), endpoint: 0) == .init(rule: nil, pool: 1))
        #expect(t.route(n("cloud.internal"), endpoint: 1) == .init(rule: nil, pool: 1))
    }

    @Test func explainNamesTheSystemCarveOut() {
        let x = productTable().explain(n("www.public.corp.example"), type: .a, endpoint: 1)
        #expect(x.reason == .systemRule)
        #expect(x.route.rule == 1 && x.route.pool == 1)
        #expect(x.candidates.count == 5)
        #expect(x.candidates[1].rules.map(\.rule) == [1])
        #expect(x.candidates[2].rules.map(\.rule) == [0])
    }

    @Test func explainShowsRulesBoundElsewhere() {
        let x = productTable().explain(n("host.corp.example"), type: .a, endpoint: 0)
        #expect(x.reason == .noRule)
        #expect(x.candidates[1].rules.map(\.appliesToEndpoint) == [false])
    }

    @Test func allowList() {
        let e = productTable().endpoints[1]
        #expect(e.allows(IPAddress("10.20.3.4")!))
        #expect(!e.allows(IPAddress("10.21.0.1")!))
        #expect(!e.allows(IPAddress("::1")!))
    }
}
