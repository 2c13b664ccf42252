import ArgumentParser
@testable import SecIRCCLI
import Testing

/// `secirc groups …` as typed.
@Suite struct GroupsArgumentParsingTests {
    private func parse(_ arguments: [String]) throws -> any ParsableCommand {
        try SecIRCCommand.parseAsRoot(arguments)
    }

    @Test func groupsListsByDefault() throws {
        #expect(try parse(["groups"]) is GroupsCommand.List)
        let json = try #require(try parse(["groups", "--json"]) as? GroupsCommand.List)
        #expect(json.global.json)
        #expect(try parse(["groups", "list", "--data-dir", "/d"]) is GroupsCommand.List)
    }

    @Test func createTakesANameAndContacts() throws {
        let bare = try #require(try parse(["groups", "create", "climbing"]) as? GroupsCommand.Create)
        #expect(bare.name == "climbing" && bare.contacts.isEmpty)
        let invited = try #require(try parse(["groups", "create", "Book Club", "bob", "3fa2", "--json"]) as? GroupsCommand.Create)
        #expect(invited.name == "Book Club" && invited.contacts == ["bob", "3fa2"] && invited.global.json)
        let sixtyFourBytes = String(repeating: "é", count: 32)
        #expect((try parse(["groups", "create", sixtyFourBytes]) as? GroupsCommand.Create)?.name == sixtyFourBytes)
    }

    @Test func everySubcommandAndItsArguments() throws {
        #expect((try parse(["groups", "show", "3fa2"]) as? GroupsCommand.Show)?.group == "3fa2")
        let post = try #require(try parse(["groups", "post", "climbing", "on", "my", "way"]) as? GroupsCommand.Post)
        #expect(post.group == "climbing" && post.text.joined(separator: " ") == "on my way")
        #expect((try parse(["groups", "post", "climbing", "--", "-5 degrees"]) as? GroupsCommand.Post)?.text == ["-5 degrees"])
        let messages = try #require(try parse(["groups", "messages", "climbing", "--limit", "20", "--before", "31"]) as? GroupsCommand.Messages)
        #expect(messages.group == "climbing" && messages.limit == 20 && messages.before == 31)
        #expect((try parse(["groups", "messages", "climbing"]) as? GroupsCommand.Messages)?.limit == 50)
        let add = try #require(try parse(["groups", "add", "climbing", "bob"]) as? GroupsCommand.Add)
        #expect(add.group == "climbing" && add.contact == "bob")
        let remove = try #require(try parse(["groups", "remove", "climbing", "abab"]) as? GroupsCommand.Remove)
        #expect(remove.group == "climbing" && remove.member == "abab")
        let admin = try #require(try parse(["groups", "admin", "climbing", "bob"]) as? GroupsCommand.Admin)
        #expect(admin.member == "bob" && !admin.revoke)
        #expect((try parse(["groups", "admin", "climbing", "bob", "--revoke"]) as? GroupsCommand.Admin)?.revoke == true)
        let rename = try #require(try parse(["groups", "rename", "climbing", "bouldering"]) as? GroupsCommand.Rename)
        #expect(rename.group == "climbing" && rename.name == "bouldering")
        #expect((try parse(["groups", "leave", "climbing"]) as? GroupsCommand.Leave)?.group == "climbing")
        #expect((try parse(["groups", "delete", "b00c"]) as? GroupsCommand.Delete)?.group == "b00c")
        #expect(try parse(["groups", "invitations", "--json"]) is GroupsCommand.Invitations)
        #expect((try parse(["groups", "accept", "poker"]) as? GroupsCommand.Accept)?.group == "poker")
        #expect((try parse(["groups", "decline", "77ab"]) as? GroupsCommand.Decline)?.group == "77ab")
    }

    @Test(arguments: [
        ["groups", "create"], ["groups", "create", ""], ["groups", "create", String(repeating: "x", count: 65)],
        ["groups", "create", String(repeating: "é", count: 33)], ["groups", "create", "tab\there"],
        ["groups", "rename", "climbing"], ["groups", "rename", "climbing", String(repeating: "👍", count: 17)],
        ["groups", "post", "climbing"], ["groups", "post", "climbing", ""],
        ["groups", "messages", "climbing", "--limit", "0"], ["groups", "messages", "climbing", "--limit", "501"],
        ["groups", "messages", "climbing", "--before", "0"], ["groups", "messages"],
        ["groups", "add", "climbing"], ["groups", "remove", "climbing"], ["groups", "admin", "climbing"],
        ["groups", "show"], ["groups", "leave"], ["groups", "delete"], ["groups", "accept"], ["groups", "decline"],
        ["groups", "frobnicate", "x"],
    ])
    func refusedArguments(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try parse(arguments) }
    }

    @Test func theNameRuleIsTheDaemons() throws {
        try GroupsCommand.validateName("é")
        try GroupsCommand.validateName(" ")
        try GroupsCommand.validateName(String(repeating: "x", count: 64))
        try GroupsCommand.validateName("bo\u{202E}b")
        #expect(throws: ValidationError.self) { try GroupsCommand.validateName("bob\u{7F}") }
        #expect(throws: ValidationError.self) { try GroupsCommand.validateName("bob\u{85}") }
        #expect(throws: ValidationError.self) { try GroupsCommand.validateName(String(repeating: "x", count: 65)) }
    }
}
