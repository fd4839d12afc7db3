"""A thinking budget for models with a thinking mode (Qwen3 hybrid and thinking models), both backends.

Cutting such a model off at max_tokens while it thinks leaves no answer at all. Instead, as Qwen's documentation
describes ("budget forcing"), once the model has thought for its budget its thinking is closed for it with a
fixed sentence and ``</think>``, and it goes on from there to the answer, with max_tokens for the answer alone.
"""

from __future__ import annotations

# Qwen3's documented text for ending the thinking early.
CLOSE_THINKING = (
    "\n\nConsidering the limited time by the user, I have to give the solution based on the thinking directly now."
    "\n</think>\n\n"
)
OPEN_TAG, CLOSE_TAG = "<think>", "</think>"


def opens_thinking(prompt: str) -> bool:
    """Whether a rendered chat prompt already opens the thinking block (Qwen3 thinking templates do)."""
    return prompt.rstrip().endswith(OPEN_TAG)


class ThinkingWatch:
    """Follows a streamed answer and says when its thinking has used up the budget. Fed one generated token's
    text at a time (local) or one streamed delta (remote servers send about a token per delta)."""

    def __init__(self, budget: int, opened: bool = False) -> None:
        self.budget = budget
        self.spent = 0  # tokens (deltas) spent thinking
        self.answered = 0  # and answering
        self.opened = opened
        self.closed = False
        self._reasoning_channel = False
        self._tail = ""  # the end of the text so far, for a tag split across chunks

    @property
    def thinking(self) -> bool:
        return self.opened and not self.closed

    def feed(self, chunk: str) -> None:
        window = self._tail + chunk
        counts = self.thinking
        if not self.opened and OPEN_TAG in window:
            self.opened = counts = True
            window = window[window.index(OPEN_TAG) + len(OPEN_TAG) :]
        if self.opened and CLOSE_TAG in window:
            self.closed = True
        self._tail = window[-len(CLOSE_TAG) :]
        self.spent += counts
        self.answered += not counts

    def feed_delta(self, reasoning: str, content: str) -> None:
        """One streamed delta from a server that may send thinking apart from the answer (``reasoning_content``:
        vLLM or SGLang with a reasoning parser, DashScope): content after such reasoning is the answer."""
        if reasoning:
            self._reasoning_channel = self.opened = True
            self.feed(reasoning)
        if content:
            self.closed = self.closed or self._reasoning_channel
            self.feed(content)

    @property
    def exhausted(self) -> bool:
        """The model is still thinking and has spent its budget: close its thinking now."""
        return self.thinking and self.spent >= self.budget
