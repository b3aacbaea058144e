"""The exceptions gkrnet raises. The Rust extension raises these very classes."""


class Error(Exception):
    """Base class of every gkrnet error."""


class InputError(Error, ValueError):
    """A bad argument: an input of the wrong shape or dtype, a value out of range, an unknown option."""


class VerifyError(Error):
    """The verifier rejected the proof; the message is the library's reason (the CLI's text)."""


class ProofFormatError(VerifyError):
    """Bytes that are not a proof file (the message names the byte offset)."""


class FormatError(Error, ValueError):
    """Bytes that are not a compiled model (.gkrm) or a model commitment (.gkrc)."""


class CompileError(Error):
    """An ONNX model that cannot be imported (the message names the op, the node and the shapes)."""


class ProveError(Error):
    """The prover failed (for instance a commitment made of other weights)."""
