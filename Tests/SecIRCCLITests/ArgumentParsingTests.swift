import ArgumentParser
@testable import SecIRCCLI
import Testing

/// The `secirc` command line as typed.
@Suite struct ArgumentParsingTests {
    private func parse(_ arguments: [String]) throws -> any ParsableCommand {
        try SecIRCCommand.parseAsRoot(arguments)
    }

    @Test func globalOptionsBeforeTheSubcommandReachIt() throws {
        let command = try #require(try parse(["--api", "http://127.0.0.1:7000", "--token-file", "/tmp/t", "send", "bob", "hi"]) as? SendCommand)
        #expect(command.global.api == "http://127.0.0.1:7000")
        #expect(command.global.tokenFile == "/tmp/t")
        #expect(command.contact == "bob")
        #expect(command.text == ["hi"])
    }

    @Test func globalOptionsAfterTheSubcommandToo() throws {
        let command = try #require(try parse(["messages", "bob", "--limit", "5", "--json", "--data-dir", "/d"]) as? MessagesCommand)
        #expect(command.limit == 5)
        #expect(command.global.json)
        #expect(command.global.tokenPath(environment: [:]) == "/d/api.token")
    }

    @Test func sendJoinsWordsAndKeepsTextAfterDoubleDash() throws {
        let words = try #require(try parse(["send", "bob", "hello", "there"]) as? SendCommand)
        #expect(words.text.joined(separator: " ") == "hello there")
        let dashed = try #require(try parse(["send", "bob", "--", "-1 is a number"]) as? SendCommand)
        #expect(dashed.text == ["-1 is a number"])
        #expect(throws: (any Error).self) { try parse(["send", "bob"]) }
    }

    @Test func contactsListsByDefaultAndHasItsSubcommands() throws {
        #expect(try parse(["contacts"]) is ContactsCommand.List)
        #expect(try parse(["contacts", "list"]) is ContactsCommand.List)
        let add = try #require(try parse(["contacts", "add", "secirc:abc", "--name", "bob"]) as? ContactsCommand.Add)
        #expect(add.uri == "secirc:abc" && add.name == "bob")
        let rename = try #require(try parse(["contacts", "rename", "3fa2", "robert"]) as? ContactsCommand.Rename)
        #expect(rename.contact == "3fa2" && rename.name == "robert")
        let remove = try #require(try parse(["contacts", "remove", "bob"]) as? ContactsCommand.Remove)
        #expect(remove.contact == "bob")
        let accept = try #require(try parse(["contacts", "accept", "bob (2)"]) as? ContactsCommand.Accept)
        #expect(accept.contact == "bob (2)")
        let reject = try #require(try parse(["contacts", "reject", "ef12"]) as? ContactsCommand.Reject)
        #expect(reject.contact == "ef12")
    }

    @Test func theOtherCommands() throws {
        #expect(try parse(["id"]) is IdentityCommand)
        #expect(try parse(["invite"]) is InviteCommand)
        #expect(try parse(["watch", "--json"]) is WatchCommand)
        #expect(try parse(["network"]) is NetworkCommand)
        let devnet = try #require(try parse(["devnet", "--dir", "/tmp/x", "--smoke", "--bin-dir", "/b"]) as? DevnetCommand)
        #expect(devnet.dir == "/tmp/x" && devnet.smoke && devnet.binDir == "/b")
    }

    @Test(arguments: [["messages", "bob", "--limit", "0"], ["messages", "bob", "--limit", "501"], ["devnet", "--mean-delay-ms", "-1"],
                      ["frobnicate"], ["contacts", "rename", "bob"]])
    func refusedArguments(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try parse(arguments) }
    }

    @Test func apiURLAndTokenFileDefaults() throws {
        let none = try GlobalOptions.parse([])
        #expect(none.apiURL(environment: [:]) == "http://127.0.0.1:6692")
        #expect(none.apiURL(environment: ["SECIRC_API": "http://127.0.0.1:7"]) == "http://127.0.0.1:7")
        #expect(none.tokenPath(environment: [:]) == "data/client/api.token")
        #expect(none.tokenPath(environment: ["SECIRC_TOKEN_FILE": "/e"]) == "/e")

        let flags = try GlobalOptions.parse(["--api", "http://127.0.0.1:9", "--data-dir", "/d"])
        #expect(flags.apiURL(environment: ["SECIRC_API": "http://127.0.0.1:7"]) == "http://127.0.0.1:9", "flags win over the environment")
        #expect(flags.tokenPath(environment: ["SECIRC_TOKEN_FILE": "/e"]) == "/d/api.token")
        let file = try GlobalOptions.parse(["--token-file", "/f", "--data-dir", "/d"])
        #expect(file.tokenPath(environment: ["SECIRC_TOKEN_FILE": "/e"]) == "/f")
    }
}
