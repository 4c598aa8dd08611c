import DNSWire
import Foundation

func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var chars = Array(s.filter { !$0.isWhitespace })
    while chars.count >= 2 {
        out.append(UInt8(String(chars[0...1]), radix: 16)!)
        chars.removeFirst(2)
    }
    return out
}

func name(_ s: String) -> DNSName { try! DNSName(s) }

func fixture(_ key: String) -> [UInt8] {
    let url = Bundle.module.url(forResource: "Fixtures/dnspython", withExtension: "json")!
    let table = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: String]
    return hex(table[key]!)
}
