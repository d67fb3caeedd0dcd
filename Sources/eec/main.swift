import Foundation

exit(Driver.main(Array(CommandLine.arguments.dropFirst())))
