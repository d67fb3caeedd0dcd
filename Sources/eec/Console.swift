import Foundation

/// Where a command writes. The real one goes to the process's streams; tests capture it.
struct Console {
    var out: String = ""
    var err: String = ""
    /// Write straight through (the real command) instead of buffering (tests).
    var passthrough: Bool = false

    /// Writes a line to standard output.
    mutating func print(_ text: String) { write(text + "\n") }

    /// Writes text to standard output as it is.
    mutating func write(_ text: String) {
        if passthrough {
            FileHandle.standardOutput.write(Data(text.utf8))
        } else {
            out += text
        }
    }

    mutating func error(_ text: String) {
        let line = text.hasSuffix("\n") ? text : text + "\n"
        if passthrough {
            FileHandle.standardError.write(Data(line.utf8))
        } else {
            err += line
        }
    }
}

/// Exit statuses: 0 ok, 1 bad input (a file's content), 2 bad usage (the command line).
enum ExitStatus {
    static let ok: Int32 = 0
    static let badInput: Int32 = 1
    static let badUsage: Int32 = 2
}

/// A command failed on its input: the message is printed as is, exit status 1.
struct InputError: Error {
    var message: String
}

/// Writes a text file, or fails with a message naming it.
func writeFile(_ path: String, _ text: String) throws(InputError) {
    try writeFile(path, Data(text.utf8))
}

func writeFile(_ path: String, _ data: Data) throws(InputError) {
    do {
        try data.write(to: URL(fileURLWithPath: path))
    } catch {
        throw InputError(message: "\(path): error: cannot write file (\(error.localizedDescription))")
    }
}
