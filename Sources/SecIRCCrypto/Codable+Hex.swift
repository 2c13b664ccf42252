/// Public keys, IDs, hashes and signatures travel in JSON as lowercase hex strings.
extension Bytes32: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(hex: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected 64 hex digits"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

extension SigningPublicKey: Codable {
    public init(from decoder: any Decoder) throws { self.init(rawValue: try Bytes32(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try rawValue.encode(to: encoder) }
}

extension AgreementPublicKey: Codable {
    public init(from decoder: any Decoder) throws { self.init(rawValue: try Bytes32(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try rawValue.encode(to: encoder) }
}

extension ID: Codable {
    public init(from decoder: any Decoder) throws { self.init(rawValue: try Bytes32(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try rawValue.encode(to: encoder) }
}

extension Signature: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(bytes: Hex.decode(text))
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected 128 hex digits"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
