"""Conformance: Google's official Python SDK (google-genai), unchanged, against the simulator.

If the simulator speaks the real wire format, the SDK cannot tell the difference: it builds
its own URLs (the stable /v1 surface), encodes bytes its own way (URL-safe base64), parses
answers into its own types and raises its own error classes. Usage: python_sdk.py BASE_URL
"""

import io
import sys

from google import genai
from google.genai import errors, types
from PIL import Image

MODEL = "gemini-3.1-flash-image"
client = genai.Client(api_key="any-key", http_options=types.HttpOptions(base_url=sys.argv[1]))


def image_part(response):
    return next(p for p in response.candidates[0].content.parts if p.inline_data)


# Text to image at 2K, 16:9: the documented size, usage with thinking, a thought signature.
r = client.models.generate_content(
    model=MODEL,
    contents="a lighthouse at dusk",
    config=types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=types.ImageConfig(aspect_ratio="16:9", image_size="2K"),
    ),
)
part = image_part(r)
assert r.candidates[0].finish_reason == types.FinishReason.STOP
assert Image.open(io.BytesIO(part.inline_data.data)).size == (2752, 1536)
assert r.usage_metadata.candidates_token_count == 1680
assert r.usage_metadata.thoughts_token_count > 0
assert part.thought_signature

# A follow-up turn that echoes the model's turn, signature and all.
chat = [
    types.Content(role="user", parts=[types.Part(text="a lighthouse at dusk")]),
    r.candidates[0].content,
    types.Content(role="user", parts=[types.Part(text="now at dawn")]),
]
assert image_part(client.models.generate_content(model=MODEL, contents=chat))

# Streaming over SSE.
chunks = list(client.models.generate_content_stream(model=MODEL, contents="a boat"))
assert len(chunks) == 2 and chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP

# Error answers arrive as the SDK's own error classes, with code and status.
def fails(expected_class, code, status, **call):
    try:
        client.models.generate_content(**call)
    except expected_class as e:
        assert (e.code, e.status) == (code, status), (e.code, e.status)
        return e
    raise AssertionError(f"expected {expected_class.__name__} {code}")

fails(errors.ClientError, 429, "RESOURCE_EXHAUSTED", model=MODEL, contents="x [sim:quota]")
fails(errors.ServerError, 503, "UNAVAILABLE", model=MODEL, contents="x [sim:overloaded]")
fails(errors.ServerError, 500, "INTERNAL", model=MODEL, contents="x [sim:internal]")
fails(errors.ClientError, 404, "NOT_FOUND", model="gemini-2.5-flash-image-preview", contents="x")
e = fails(
    errors.ClientError, 400, "INVALID_ARGUMENT",
    model=MODEL, contents="x", config=types.GenerateContentConfig(candidate_count=2),
)
assert e.message == "Multiple candidates is not enabled for this model"

# Blocks are 200s the SDK parses into its types.
r = client.models.generate_content(model=MODEL, contents="x [sim:prompt-blocked]")
assert r.prompt_feedback.block_reason == types.BlockedReason.PROHIBITED_CONTENT and not r.candidates
r = client.models.generate_content(model=MODEL, contents="x [sim:image-blocked]")
assert r.candidates[0].finish_reason == types.FinishReason.IMAGE_SAFETY

# models.list, page by page as the SDK pages it, and models.get.
NB21 = "gemini-nano-banana-2.1"
listed = list(client.models.list(config=types.ListModelsConfig(page_size=2)))
names = [m.name for m in listed]
assert f"models/{NB21}" in names and f"models/{MODEL}" in names, names
assert len(listed) > 2, "more than one page was read"
nb = next(m for m in listed if m.name == f"models/{NB21}")
assert "generateContent" in nb.supported_actions, nb.supported_actions
assert client.models.get(model=NB21).name == f"models/{NB21}"
fails(errors.ClientError, 404, "NOT_FOUND", model="gemini-3-pro-image-preview", contents="x")

# A multi-turn chat: the SDK keeps the model's turns (signatures included) and sends them
# back; 2.1 refuses a turn without them, and its answer shows it kept the context.
chat = client.chats.create(model=NB21)
first = chat.send_message("a red boat on a lake")
assert image_part(first).thought_signature
second = chat.send_message("now make the boat blue")
words = "".join(p.text or "" for p in second.candidates[0].content.parts)
assert "the 1 earlier turn" in words, words
assert image_part(second)

# Streaming with thought summaries at a thinking level: thoughts come first, then the image.
chunks = list(
    client.models.generate_content_stream(
        model=NB21,
        contents="a lighthouse in fog",
        config=types.GenerateContentConfig(
            thinking_config=types.ThinkingConfig(
                include_thoughts=True, thinking_level=types.ThinkingLevel.HIGH
            ),
        ),
    )
)
parts = [p for c in chunks if c.candidates and c.candidates[0].content for p in c.candidates[0].content.parts or []]
first_thought = next(i for i, p in enumerate(parts) if p.thought and p.text)
answer = max(i for i, p in enumerate(parts) if p.inline_data and not p.thought)
assert first_thought < answer
assert chunks[-1].usage_metadata.thoughts_token_count >= 600

# A grounded answer's metadata, in the SDK's own types.
r = client.models.generate_content(
    model=NB21,
    contents="the Eiffel tower at night",
    config=types.GenerateContentConfig(tools=[types.Tool(google_search=types.GoogleSearch())]),
)
g = r.candidates[0].grounding_metadata
assert g.web_search_queries == ["the Eiffel tower at night"], g.web_search_queries
assert g.grounding_chunks[0].web.uri.startswith("https://")
assert "chip" in g.search_entry_point.rendered_content

print("python SDK conformance: all checks passed")
