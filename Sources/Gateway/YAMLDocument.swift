import CYAML

/// A YAML document as a tree of nodes that remember their line, read with libyaml's event
/// parser. Anchors and aliases are resolved; tags other than the core ones are kept as text.
struct YAMLNode {
    enum Value {
        /// `plain` is false for quoted and block scalars: `"53"` is a string, `53` is not.
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    var value: Value
    /// 1-based line where the node starts.
    var line: Int

    /// True for `~`, `null`, and an empty plain scalar: YAML's ways of writing nothing.
    var isNull: Bool {
        if case .scalar(let s, true) = value { return s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL" }
        return false
    }
}

/// A YAML syntax error, located.
struct YAMLSyntaxError: Error {
    var line: Int
    var message: String
}

enum YAMLDocument {
    /// Parses the first document of `text`. An empty file is an empty mapping.
    static func parse(_ text: String) throws(YAMLSyntaxError) -> YAMLNode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLSyntaxError(line: 1, message: "could not initialise the YAML parser")
        }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBufferPointer { buffer throws(YAMLSyntaxError) -> YAMLNode in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = Builder()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let problem = parser.problem.map { String(cString: $0) } ?? "syntax error"
                    let context = parser.context.map { String(cString: $0) + ": " } ?? ""
                    throw YAMLSyntaxError(line: Int(parser.problem_mark.line) + 1,
                                          message: "YAML syntax: \(context)\(problem)")
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT || event.type == YAML_DOCUMENT_END_EVENT { break }
                try builder.take(event)
            }
            return builder.root ?? YAMLNode(value: .mapping([]), line: 1)
        }
    }

    /// Turns the event stream into nodes with a stack of open collections. Frames are mutated
    /// in place (`stack[top]`), so appending to a collection of a million items stays linear.
    private struct Builder {
        struct Frame {
            var isMapping: Bool
            var line: Int
            var anchor: String?
            var items: [YAMLNode] = []
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            var pendingKey: YAMLNode? = nil
        }
        var stack: [Frame] = []
        var anchors: [String: YAMLNode] = [:]
        var root: YAMLNode?

        mutating func take(_ event: yaml_event_t) throws(YAMLSyntaxError) {
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let text = String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
                let node = YAMLNode(value: .scalar(text, plain: s.style == YAML_PLAIN_SCALAR_STYLE), line: line)
                if let a = s.anchor { anchors[String(cString: a)] = node }
                add(node)
            case YAML_ALIAS_EVENT:
                let name = String(cString: event.data.alias.anchor)
                guard let node = anchors[name] else {
                    throw YAMLSyntaxError(line: line, message: "YAML alias *\(name) names no anchor")
                }
                add(node)
            case YAML_SEQUENCE_START_EVENT:
                stack.append(Frame(isMapping: false, line: line, anchor: event.data.sequence_start.anchor.map { String(cString: $0) }))
            case YAML_MAPPING_START_EVENT:
                stack.append(Frame(isMapping: true, line: line, anchor: event.data.mapping_start.anchor.map { String(cString: $0) }))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { return }
                let node = YAMLNode(value: frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items), line: frame.line)
                if let anchor = frame.anchor { anchors[anchor] = node }
                add(node)
            default:
                break
            }
        }

        private mutating func add(_ node: YAMLNode) {
            guard !stack.isEmpty else {
                if root == nil { root = node }
                return
            }
            let top = stack.count - 1
            if !stack[top].isMapping {
                stack[top].items.append(node)
            } else if let key = stack[top].pendingKey {
                stack[top].pairs.append((key, node))
                stack[top].pendingKey = nil
            } else {
                stack[top].pendingKey = node
            }
        }
    }
}
