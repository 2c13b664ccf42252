import SecIRCCore
import SecIRCCrypto
import SecIRCTransport

extension RelayEngine {
    /// How often the own descriptor is signed again, so its published time stays fresh for the
    /// first ring (and at once when the onion keys change).
    var descriptorRefresh: Duration { min(configuration.directoryPeriod, .seconds(300)) }
    /// A first ring signs at most this often when relays join or change.
    static var signingDebounce: Duration { .milliseconds(200) }
    /// How often challenged relays are looked at while some are waiting.
    static var challengeCheckInterval: Duration { .milliseconds(100) }
    /// A relay not listed this long after an accepted upload uploads again: longer than a
    /// first ring waits for the handshake challenge (30 s).
    static var unlistedReupload: Duration { .seconds(40) }

    /// Own descriptor, first-ring signing, directory fetch and descriptor upload, as due.
    mutating func directoryDuties(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        if now >= nextDescriptorRefresh {
            nextDescriptorRefresh = now.adding(descriptorRefresh)
            signDescriptor(now: now, effects: &effects)
        }
        if authority?.challenges.isEmpty == false {
            probeChallenged(now: now, rng: &rng, effects: &effects)
            checkChallenges(now: now)
        }
        if let first = probesInFlight.first, first.due <= now { expireProbes(now: now) }
        coverDuties(now: now, rng: &rng, effects: &effects)
        if ring == nil, authority != nil, let due = nextSigning, now >= due {
            signDirectory(now: now, effects: &effects)
        }
        ringDuties(now: now, effects: &effects)
        if let due = tracker.nextDeadline, due <= now {
            // Asked first when every configured source fails: the relays linked now.
            tracker.preferredPeers = links.linkedPeers
        }
        if let request = tracker.fetchIfDue(now: now, id: nextFetchID) {
            nextFetchID += 1
            effects.fetches.append(request)
        }
        if let due = nextUpload, now >= due { upload(now: now, effects: &effects) }
    }

    private mutating func signDescriptor(now: UnixTime, effects: inout NodeEffects<Event>) {
        let content = RelayDescriptor(
            identityKey: configuration.identity.publicKey, linkKey: configuration.linkKey.publicKey,
            udp: configuration.advertisedUDP, http: configuration.advertisedHTTP, onionKeys: keys.descriptorEntries,
            capacity: configuration.capacity, flags: isFirstRing ? ["first_ring", "mailbox"] : ["mailbox"],
            published: now.seconds, load: mailboxes.loadPercent)
        guard let document = try? content.signed(by: configuration.identity) else { return }
        descriptor = document
        descriptorVersion += 1
        effects.events.append(.descriptorSigned(document))
        if authority != nil, (try? authority!.setOwn(document)) != nil { markDirectoryChanged(now: now) }
    }

    mutating func markDirectoryChanged(now: UnixTime) {
        guard ring == nil else { return } // a ring of several signs by rounds, not on changes
        let soonest = max(now, lastSignedAt.map { $0.adding(Self.signingDebounce) } ?? now)
        nextSigning = min(nextSigning ?? soonest, soonest)
    }

    private mutating func signDirectory(now: UnixTime, effects: inout NodeEffects<Event>) {
        guard let (document, _) = authority?.sign(now: now) else { return }
        effects.events.append(.saveDirectory(document))
        lastSignedAt = now
        nextSigning = now.adding(configuration.directoryPeriod)
        do {
            if try tracker.install(document, now: now) { directoryInstalled(now: now, effects: &effects) }
        } catch {
            effects.events.append(.directoryRefused(error))
        }
    }

    /// First ring: takes a relay's uploaded descriptor. A new relay (or a new address or link
    /// key) is challenged first: a link handshake to the address it advertises, with the link key
    /// it publishes, which only a relay holding that key at that address can answer, and a
    /// `GET /healthz` at the `http` it advertises, which must answer 200. It is listed once both
    /// passed; a relay that does not pass within `DirectoryAuthority.challengeTimeout` is
    /// dropped and counted.
    mutating func acceptDescriptor(_ document: SignedDocument, now: UnixTime, rng: inout some RandomSource,
                                   effects: inout NodeEffects<Event>) -> Reply {
        guard authority != nil else { return .notFirstRing }
        do {
            let acceptance = try authority!.accept(document, now: now)
            switch acceptance.change {
            case .changed: markDirectoryChanged(now: now)
            case .challenged: challenge(acceptance.id, now: now, rng: &rng, effects: &effects)
            case .refreshed: break
            }
            if acceptance.recheck { challenge(acceptance.id, now: now, rng: &rng, effects: &effects) }
            return .accepted(id: acceptance.id, change: acceptance.change)
        } catch {
            return .refused(error)
        }
    }

    /// Starts (or goes on with) the checks of a challenged relay: a padding frame to it (the
    /// handshake), and its `/healthz` unless that answered or is being asked already.
    private mutating func challenge(_ id: ID, now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        guard let peer = challengePeer(id), let waiting = authority?.challenges[id] else { return }
        if !waiting.healthAnswered, !healthChecks.values.contains(where: { $0.id == id }) {
            let http = waiting.descriptor.http
            healthChecks[nextFetchID] = (id, http)
            effects.fetches.append(FetchRequest(id: nextFetchID, method: .get, url: DirectoryTracker.resourceURL(http, "/healthz"),
                                                timeout: Self.healthCheckTimeout))
            nextFetchID += 1
        }
        if links.linkedPeers.contains(id), links.peer(id) == peer {
            probeChallenged(now: now, rng: &rng, effects: &effects)
            return checkChallenges(now: now)
        }
        links.send(LinkFrame.padding.encoded(), to: peer, now: now, rng: &rng, out: &effects.datagrams)
    }

    /// Sends the forwarding probe of each challenged relay whose handshake completed and whose
    /// probe has not gone out: ``DirectoryAuthority/probePackets`` Sphinx packets over the link
    /// to it, each routed through it and back to this member (delay drawn as a client draws
    /// one) and delivered to a random 32-byte address only this member knows, so the relay
    /// cannot tell them from the mesh's other packets by their contents.
    mutating func probeChallenged(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        let linked = links.linkedPeers
        let waiting = authority!.challenges.filter { !$0.value.probeSent && linked.contains($0.key) }
        guard !waiting.isEmpty else { return }
        let own = keys.current
        let network = configuration.network
        let maxDelay = min(configuration.maxDelayMilliseconds, network.maxDelayMilliseconds)
        for (id, challenge) in waiting where links.peer(id) == challengePeer(id) {
            guard probesInFlight.count + DirectoryAuthority.probePackets <= Self.maximumProbes else { return }
            authority!.probeSent(id)
            guard let key = PathSelector.onionKey(of: challenge.descriptor, now: now) else { continue }
            for _ in 0..<DirectoryAuthority.probePackets {
                let tag = rng.bytes(32).withUnsafeBytes { Bytes32(copying: $0) }
                let delay = PathSelector.exponential(mean: Double(network.meanDelayMs), cap: maxDelay, rng: &rng)
                let path = [SphinxHop(onionKey: key.key, epoch: key.epoch,
                                      command: .forward(to: relayID.rawValue, delayMilliseconds: delay, nextEpoch: 0)),
                            SphinxHop(onionKey: own.publicKey, epoch: own.epoch, command: .deliver(to: tag))]
                guard let packet = try? SphinxPacketBuilder(geometry: sphinx.geometry).build(path: path, body: [], using: &rng) else { continue }
                probesInFlight.append(ProbePacket(tag: tag, relay: id, challenge: challenge.since, due: now.adding(Self.probeTimeout)))
                self.own.probePackets[.sent, default: 0] += 1
                links.send(LinkFrame.sphinx(packet).encoded(), to: id, now: now, rng: &rng, out: &effects.datagrams)
            }
        }
    }

    /// A packet delivered here to `address`: if it is a probe's, counted for the relay it went
    /// through (true), else false.
    mutating func probeReturned(to address: Bytes32) -> Bool {
        guard let index = probesInFlight.firstIndex(where: { $0.tag == address }) else { return false }
        let probe = probesInFlight.remove(at: index)
        own.probePackets[.returned, default: 0] += 1
        authority?.probed(probe.relay, returned: true, challenge: probe.challenge)
        return true
    }

    /// Probe packets that did not come back within ``probeTimeout``: lost.
    mutating func expireProbes(now: UnixTime) {
        let lost = probesInFlight.prefix { $0.due <= now }
        for probe in lost {
            own.probePackets[.lost, default: 0] += 1
            authority?.probed(probe.relay, returned: false, challenge: probe.challenge)
        }
        probesInFlight.removeFirst(lost.count)
    }

    /// How long a probe packet may take to come back: within its challenge's 30 s, less five
    /// for the links (the longest delay relays accept is 20 mean delays, 1 s by default).
    static var probeTimeout: Duration { .seconds(25) }
    /// Probe packets out at once: a full probe for every challenge the table holds.
    static var maximumProbes: Int { 64 * DirectoryAuthority.probePackets }

    private func challengePeer(_ id: ID) -> LinkPeer? {
        guard let waiting = authority?.challenges[id], let address = try? SocketAddress(numeric: waiting.descriptor.udp) else { return nil }
        return LinkPeer(id: id, address: address, linkKey: waiting.descriptor.linkKey)
    }

    /// How long a challenged relay's `/healthz` may take.
    static var healthCheckTimeout: Duration { .seconds(10) }

    /// Lists the challenged relays that passed (handshake, `/healthz` and, for one not listed at
    /// its endpoint yet, the forwarding probe); drops those that did not in time.
    mutating func checkChallenges(now: UnixTime) {
        lastChallengeCheck = now
        let linked = links.linkedPeers
        let passed = Set(authority!.challenges.filter(\.value.passedChecks).keys)
        for id in passed where linked.contains(id) && links.peer(id) == challengePeer(id) {
            if authority!.admit(id, now: now) {
                own.relaysAdmitted += 1
                markDirectoryChanged(now: now)
            }
        }
        for id in authority!.expireChallenges(now: now) {
            // One that passed but found the period's new relays all listed was deferred.
            if linked.contains(id), passed.contains(id) { own.admissionsDeferred += 1 } else { own.challengesFailed += 1 }
            if tracker.held?.byID[id] == nil { links.removePeer(id) }
        }
    }

    /// An operator's change to the allow or ban list: saved, and a ring of one signs a
    /// directory without a banned (or, in allow-list mode, disallowed) relay soon.
    mutating func changeAdmission(_ change: AdmissionLists.Change, now: UnixTime, effects: inout NodeEffects<Event>) -> Reply {
        guard authority != nil else { return .notFirstRing }
        let before = authority!.lists
        guard authority!.change(change) else { return .admissionListFull }
        if authority!.lists != before {
            effects.events.append(.saveAdmission(authority!.lists))
            markDirectoryChanged(now: now)
        }
        return .admission(authority!.lists, authority!.policy)
    }

    /// The directory's relays become the link peers.
    mutating func directoryInstalled(now: UnixTime, effects: inout NodeEffects<Event>) {
        guard let held = tracker.held else { return }
        var peers: [LinkPeer] = []
        for descriptor in held.descriptors where descriptor.id != relayID {
            // Addresses only (never a resolver on the loop): the first ring refuses names.
            guard let address = try? SocketAddress(numeric: descriptor.udp) else { continue }
            peers.append(LinkPeer(id: descriptor.id, address: address, linkKey: descriptor.linkKey))
        }
        // Relays being challenged stay peers until they answer or run out of time.
        let listed = Set(peers.map(\.id))
        for (id, _) in authority?.challenges ?? [:] where !listed.contains(id) {
            if let peer = challengePeer(id) { peers.append(peer) }
        }
        links.setPeers(peers)
        effects.events.append(.directoryInstalled(held))
    }

    /// An HTTP answer: the directory fetch, or an upload.
    mutating func directoryFetched(_ response: FetchResponse, now: UnixTime, effects: inout NodeEffects<Event>) {
        if ringPostAnswered(response.id) { return }
        if let check = healthChecks.removeValue(forKey: response.id) {
            if response.status == 200, authority != nil {
                authority!.healthAnswered(check.id, http: check.http)
                checkChallenges(now: now)
            }
            return
        }
        if uploadsInFlight.remove(response.id) != nil {
            if response.status == 202 { uploadAccepted = true }
            uploadBackoff = max(uploadBackoff, Self.uploadBackoff(after: response, period: configuration.directoryPeriod))
            if uploadsInFlight.isEmpty, uploadAccepted {
                uploadedVersion = uploadingVersion
                lastUpload = now
                tracker.fetchSoon(now: now)
            }
            return
        }
        switch tracker.received(response, now: now) {
        case .installed:
            directoryInstalled(now: now, effects: &effects)
        case let .refused(reason):
            own.directoryRefusals += 1
            effects.events.append(.directoryRefused(reason))
        case .unchanged, .notMine:
            break
        }
        rosterFollowed(now: now, effects: &effects) // the fetch may have followed roster changes
    }

    /// When the next descriptor upload is due (relays that are not the first ring, and members
    /// of a ring of several, to the other members): when the descriptor changed since the last
    /// accepted upload or a period passed, retried each second (or after the members' refusals
    /// said to wait: ``uploadBackoff(after:period:)``) — and, while the directory held
    /// does not list this relay, again ``unlistedReupload`` after the last accepted upload (its
    /// handshake challenge may have been lost).
    var nextUpload: UnixTime? {
        guard authority == nil || ring != nil, descriptor != nil, uploadsInFlight.isEmpty, !roster.members.isEmpty else { return nil }
        let retry = lastUploadAttempt.map { $0.adding(max(.seconds(1), uploadBackoff)) } ?? UnixTime(nanoseconds: .min)
        if uploadedVersion != descriptorVersion { return retry }
        let last = lastUpload ?? UnixTime(nanoseconds: .min)
        let again = tracker.held?.byID[relayID] == nil ? min(configuration.directoryPeriod, Self.unlistedReupload) : configuration.directoryPeriod
        return max(retry, last.adding(again))
    }

    /// How long to wait before uploading again after `response` from a member: its
    /// `Retry-After` for a 429 (the admission policy's rate or new-relay cap), a period for any
    /// other refusal (a cap or a ban does not lift in a second), at most a period and 5 minutes;
    /// nothing for an accepted upload or one that got no answer.
    static func uploadBackoff(after response: FetchResponse, period: Duration) -> Duration {
        guard let status = response.status, (400..<500).contains(status) else { return .zero }
        let most = min(period, .seconds(300))
        if status == 429, let text = response.headers["retry-after"], let seconds = Int64(text), seconds >= 0 {
            return min(.seconds(seconds), most)
        }
        return most
    }

    private mutating func upload(now: UnixTime, effects: inout NodeEffects<Event>) {
        guard let descriptor else { return }
        lastUploadAttempt = now
        uploadBackoff = .zero
        uploadingVersion = descriptorVersion
        uploadAccepted = false
        let body = descriptor.jsonBytes()
        for member in roster.members where member.identityKey != configuration.identity.publicKey {
            let request = FetchRequest(id: nextFetchID, method: .post, url: DirectoryTracker.resourceURL(member.http, "/v1/descriptors"),
                                       headers: ["Content-Type": "application/json"], body: body)
            nextFetchID += 1
            uploadsInFlight.insert(request.id)
            effects.fetches.append(request)
        }
    }
}
