// secirc: the command line. Thin: everything is in SecIRCCLI.
import SecIRCCLI

SecIRCCommand.runAndExit()
