import GatewayCore
import Testing

/// The chunked reader behind the streaming `meters import`: the same rows and problems whatever the chunk size.
@Suite struct MeterCSVReaderTests {
    private static let file =
        "\u{FEFF}protocol,address,district\r\nnative,1,\"north, \"\"old\"\" town\"\r\n\nnative,2,\"two\nlines\"\n"
        + "lora,3,x\nnative,4\nnative,1,again\nnative,5,last"

    private func read(
        _ text: String,
        chunk: Int,
        detectsDuplicates: Bool = true
    ) -> (
        rows: [(Int, String?)], problems: [String], count: Int
    ) {
        var reader = MeterCSV.Reader(detectsDuplicates: detectsDuplicates)
        var output = MeterCSV.Reader.Output()
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            reader.feed(Array(bytes[start..<min(bytes.count, start + chunk)]), into: &output)
            start += chunk
        }
        reader.finish(into: &output)
        return (output.rows.map { ($0.line, $0.profile.district) }, output.problems.map(\.description), reader.rowCount)
    }

    @Test(arguments: [1, 2, 3, 7, 64, 100_000])
    func anyChunkSizeReadsTheSameAsTheWholeFile(chunk: Int) {
        let whole = MeterCSV.parse(Self.file)
        let chunked = read(Self.file, chunk: chunk)
        #expect(chunked.rows.map(\.0) == whole.rows.map(\.line))
        #expect(chunked.rows.map(\.1) == whole.rows.map(\.profile.district))
        #expect(chunked.problems == whole.problems.map(\.description))
        #expect(chunked.count == whole.rowCount)
        #expect(chunked.rows.map(\.0) == [2, 4, 9])
        #expect(chunked.rows.map(\.1) == ["north, \"old\" town", "two\nlines", "last"])
        #expect(
            chunked.problems == [
                "line 6, column protocol: \"lora\" is not one of native, cjt188, wmbus, mbus",
                "line 7: has 2 fields, the header names 3",
                "line 8, column address: meter 1 already appears on line 2",
            ]
        )
    }

    @Test func withoutDuplicateDetectionARepeatIsLeftToTheImporter() {
        let chunked = read(Self.file, chunk: 5, detectsDuplicates: false)
        #expect(chunked.rows.map(\.0) == [2, 4, 8, 9])
    }

    @Test func aRecordOverTheLimitStopsTheReadingAndNamesItsLine() {
        var reader = MeterCSV.Reader(detectsDuplicates: false)
        var output = MeterCSV.Reader.Output()
        reader.feed(Array("protocol,address\nnative,1\nnative,\"2\n".utf8), into: &output)
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
        for _ in 0..<(MeterCSV.Reader.maximumRecordBytes / 4096 + 1) { reader.feed(filler, into: &output) }
        reader.finish(into: &output)
        #expect(reader.isAborted)
        #expect(output.rows.map(\.line) == [2])
        #expect(output.problems.count == 1)
        #expect(output.problems.first?.line == 3)
        #expect(output.problems.first?.message.hasPrefix("the record is longer than 1048576 bytes") == true)
    }

    @Test func anEmptyFileOrABadHeaderChecksNoRow() {
        #expect(read("", chunk: 4).problems == ["line 1: the file is empty; the first line must name the columns"])
        let bad = read("protocol,adress\nnative,1\nnative,2\n", chunk: 4)
        #expect(bad.rows.isEmpty && bad.count == 2)
        #expect(bad.problems.first?.hasPrefix("line 1, column adress: unknown column") == true)
    }
}
