package edge

// ChunkedBody decodes a chunked request body (RFC 9112 §7.1) in place, for
// the gateway's own HTTP/1.1 codec (docs/decisions/0002-http1-engine-revisited.md).
// It runs the wire tracker's chunked states, so the codec and the tracker
// that guards fasthttp today refuse exactly the same bodies: 1 to 15 hex
// digits, extensions only right after the digits and at most 4 KiB of size
// line, CRLF after every size line and every chunk's data, trailer fields
// held to the header-field rules. Trailer fields are checked and skipped:
// the proxy re-frames bodies upstream and does not forward trailers.
//
// The zero value is ready for a body's first byte; Reset readies it for the
// next one.
type ChunkedBody struct {
	w       wire
	started bool
}

// Reset readies b for the next chunked body.
func (b *ChunkedBody) Reset() { *b = ChunkedBody{} }

// Next reads src, the body's bytes from where the last call stopped, and
// returns the next run of decoded data, which is a slice of src, and how
// many bytes of src it used:
//
//   - len(data) > 0: pass data on and call again with src[used:];
//   - done: the body, trailer section included, ends at src[used], where the
//     next request on the connection begins;
//   - neither, v.OK(): src is used up; read more and call again;
//   - !v.OK(): the body is malformed; answer v (ReasonWireChunk, 400) if
//     nothing was answered yet, and close the connection.
//
// Next does not allocate.
func (b *ChunkedBody) Next(src []byte) (data []byte, used int, done bool, v Verdict) {
	if !b.started {
		b.w.startChunk()
		b.started = true
	}
	w := &b.w
	for i := 0; ; i++ {
		switch {
		case w.st == stStopped:
			return nil, i, false, faultVerdict(uint8(w.bad.Load()))
		case w.st == stHead:
			// the trailer section's blank line moved the tracker on to
			// the next head: the body is over
			return nil, i, true, Verdict{}
		case i == len(src):
			return nil, i, false, Verdict{}
		case w.st == stChunkData:
			k := int(min(int64(len(src)-i), w.remain))
			w.remain -= int64(k)
			if w.remain == 0 {
				w.st = stChunkDataCR
			}
			return src[i : i+k], i + k, false, Verdict{}
		}
		w.step(src[i])
	}
}
