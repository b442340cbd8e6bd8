// pion-peer: the data channel part of the peer contract (docs/peer-contract.md) on Pion
// WebRTC v3, so that the interop tests can pair `rtcpp peer` with Pion exactly as they pair
// two rtcpp peers: JSON-lines signaling on stdin/stdout, events and one result line on
// stdout, logs on stderr.
//
// Supported: --offer, --channel, --channels, --unordered, --protocol, --send, --chunk,
// --text, --recv, --echo, --expect-echo, --timeout. Media, negotiated channels, partial
// reliability and ICE servers are not part of what the tests need.
//
// Built offline in GOPATH mode against Debian's golang-github-pion-webrtc.v3-dev (see
// tests/interop/run_pion.sh).
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/pion/logging"
	"github.com/pion/webrtc/v3"
)

// Backpressure as the contract asks of a sender: keep bufferedAmount under about 1 MiB and
// go on at bufferedamountlow.
const (
	highWater = 1024 * 1024
	lowWater  = 256 * 1024
)

type options struct {
	offer      bool
	label      string
	channels   int
	unordered  bool
	protocol   string
	sendFile   string
	chunk      int
	text       bool
	recvFile   string
	echo       bool
	expectEcho bool
	timeout    int
}

// out writes the signaling and event lines; nothing follows the result line.
var out struct {
	sync.Mutex
	w      *bufio.Writer
	closed bool
}

// line is one JSON object whose keys keep the order they are given in ("type" first, as
// rtcpp writes them), so that the lines of both peers read and grep alike.
type line []field

type field struct {
	key   string
	value any
}

func (l line) with(key string, value any) line { return append(l, field{key, value}) }

func emit(l line) {
	var b []byte
	b = append(b, '{')
	for i, f := range l {
		k, _ := json.Marshal(f.key)
		v, err := json.Marshal(f.value)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pion-peer: cannot encode %s: %v\n", f.key, err)
			return
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	b = append(b, '}', '\n')
	out.Lock()
	defer out.Unlock()
	if out.closed {
		return
	}
	out.w.Write(b)
	out.w.Flush()
	if len(l) > 0 && l[0].value == "result" {
		out.closed = true
	}
}

func event(kind string) line { return line{{"type", kind}} }

type channel struct {
	dc             *webrtc.DataChannel
	low            chan struct{} // a token per bufferedamountlow
	echoed         chan struct{} // closed once the whole file came back (--expect-echo)
	echoOffset     int
	closeRequested bool
	closed         bool
}

type peer struct {
	opts options
	file []byte
	pc   *webrtc.PeerConnection

	mu              sync.Mutex
	started         time.Time
	connectedAt     time.Time
	firstByte       time.Time
	lastByte        time.Time
	descriptionSent bool
	heldLocal       []webrtc.ICECandidateInit
	remoteApplied   bool
	heldRemote      []webrtc.ICECandidateInit
	channels        []*channel
	bytesSent       uint64
	bytesReceived   uint64
	messages        uint64
	hash            hash.Hash
	recvOut         io.Writer
	errText         string
	allClosed       bool
	closedAll       chan struct{} // closed with allClosed
	finished        bool
	result          chan bool
	stop            chan struct{} // closed by finish: senders give up
}

func main() {
	out.w = bufio.NewWriter(os.Stdout)
	var o options
	fs := flag.NewFlagSet("pion-peer", flag.ContinueOnError)
	fs.BoolVar(&o.offer, "offer", false, "create the offer (default: wait for one and answer)")
	fs.StringVar(&o.label, "channel", "data", "label of the data channel the offerer creates")
	fs.IntVar(&o.channels, "channels", 1, "open N channels, each carrying the transfer")
	fs.BoolVar(&o.unordered, "unordered", false, "the channel is unordered")
	fs.StringVar(&o.protocol, "protocol", "", "the channel's subprotocol")
	fs.StringVar(&o.sendFile, "send", "", "once open, send FILE, then close the channel")
	fs.IntVar(&o.chunk, "chunk", 65536, "message size for --send, in bytes")
	fs.BoolVar(&o.text, "text", false, "send text messages (FILE must be UTF-8)")
	fs.StringVar(&o.recvFile, "recv", "", "append what is received to FILE ('-' allowed)")
	fs.BoolVar(&o.echo, "echo", false, "send every message back on its channel")
	fs.BoolVar(&o.expectEcho, "expect-echo", false, "with --send: check that every message comes back, in order")
	fs.IntVar(&o.timeout, "timeout", 60, "give up after S seconds")
	role := func() string {
		if o.offer {
			return "offer"
		}
		return "answer"
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		emit(event("result").with("ok", false).with("role", role()).with("error", err.Error()))
		os.Exit(1)
	}
	if fs.NArg() > 0 || o.chunk < 1 || o.channels < 1 || o.timeout < 1 {
		emit(event("result").with("ok", false).with("role", role()).with("error", "bad arguments"))
		os.Exit(1)
	}
	p := &peer{opts: o, result: make(chan bool, 1), stop: make(chan struct{}), closedAll: make(chan struct{})}
	p.hash = sha256.New()
	os.Exit(p.run())
}

func (p *peer) failEarly(why string) int {
	fmt.Fprintf(os.Stderr, "pion-peer: %s\n", why)
	emit(event("result").with("ok", false).with("role", p.role()).with("error", why))
	return 1
}

func (p *peer) role() string {
	if p.opts.offer {
		return "offer"
	}
	return "answer"
}

func (p *peer) run() int {
	if p.opts.sendFile != "" {
		data, err := os.ReadFile(p.opts.sendFile)
		if err != nil {
			return p.failEarly("cannot read " + p.opts.sendFile)
		}
		if p.opts.text && !utf8.Valid(data) {
			return p.failEarly(p.opts.sendFile + " is not UTF-8 text")
		}
		p.file = data
	}
	switch p.opts.recvFile {
	case "", "/dev/null":
	case "-":
		p.recvOut = os.Stderr // stdout carries the signaling
	default:
		f, err := os.OpenFile(p.opts.recvFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return p.failEarly("cannot open " + p.opts.recvFile)
		}
		defer f.Close()
		p.recvOut = f
	}

	// The only departure from Pion's defaults: it leaves loopback addresses out of gathering,
	// and the tests run in network namespaces where loopback is the only interface.
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	// Pion logs to stdout by default, where the signaling goes: its log (PION_LOG_DEBUG=sctp
	// and the like) goes to stderr instead, as the contract wants of logs.
	logs := logging.NewDefaultLoggerFactory()
	logs.Writer = os.Stderr
	se.LoggerFactory = logs
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return p.failEarly(err.Error())
	}
	p.pc = pc

	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		init := webrtc.ICECandidateInit{} // nil: end of candidates, ""
		if c != nil {
			init = c.ToJSON()
		}
		p.mu.Lock()
		if !p.descriptionSent {
			p.heldLocal = append(p.heldLocal, init)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		emitCandidate(init)
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		emit(event("state").with("connectionState", s.String()))
		if s == webrtc.PeerConnectionStateFailed {
			p.finish(false, "the connection failed")
		}
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) { p.attach(dc) })

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	var interrupted atomic.Int32 // the exit status a stop signal asks for
	go func() {
		s := <-signals
		name := "SIGTERM"
		interrupted.Store(128 + int32(syscall.SIGTERM))
		if s == syscall.SIGINT {
			name = "SIGINT"
			interrupted.Store(128 + int32(syscall.SIGINT))
		}
		p.finish(false, "interrupted by "+name)
	}()

	p.mu.Lock()
	p.started = time.Now()
	p.mu.Unlock()
	if p.opts.offer {
		ordered := !p.opts.unordered
		for i := 0; i < p.opts.channels; i++ {
			label := p.opts.label
			if p.opts.channels > 1 {
				label = fmt.Sprintf("%s-%d", p.opts.label, i)
			}
			dc, err := pc.CreateDataChannel(label, &webrtc.DataChannelInit{Ordered: &ordered, Protocol: &p.opts.protocol})
			if err != nil {
				return p.failEarly(err.Error())
			}
			p.attach(dc)
		}
		offer, err := pc.CreateOffer(nil)
		if err == nil {
			err = pc.SetLocalDescription(offer)
		}
		if err != nil {
			return p.failEarly(err.Error())
		}
		p.emitDescription(offer)
	}

	go p.readSignaling()

	ok := false
	select {
	case ok = <-p.result:
	case <-time.After(time.Duration(p.opts.timeout) * time.Second):
		p.finish(false, fmt.Sprintf("timed out after %d s", p.opts.timeout))
		ok = <-p.result
	}
	pc.Close()
	if status := interrupted.Load(); status != 0 {
		return int(status)
	}
	if ok {
		return 0
	}
	return 1
}

func emitCandidate(c webrtc.ICECandidateInit) {
	l := event("candidate").with("candidate", c.Candidate)
	if c.Candidate == "" {
		emit(l) // end of candidates
		return
	}
	// Pion 3.1's ToJSON names the media section "" (no section has that mid), which a W3C
	// addIceCandidate refuses; its candidates are for the bundle, so the first m-line is said
	// through sdpMLineIndex alone.
	if c.SDPMid != nil && *c.SDPMid != "" {
		l = l.with("sdpMid", *c.SDPMid)
	}
	if c.SDPMLineIndex != nil {
		l = l.with("sdpMLineIndex", *c.SDPMLineIndex)
	}
	emit(l)
}

func (p *peer) emitDescription(d webrtc.SessionDescription) {
	emit(event(d.Type.String()).with("sdp", d.SDP))
	p.mu.Lock()
	p.descriptionSent = true
	held := p.heldLocal
	p.heldLocal = nil
	p.mu.Unlock()
	// Candidates gathered while the description was being written follow it.
	for _, c := range held {
		emitCandidate(c)
	}
}

type signalLine struct {
	Type          string  `json:"type"`
	SDP           *string `json:"sdp"`
	Candidate     *string `json:"candidate"`
	SDPMid        *string `json:"sdpMid"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex"`
}

func (p *peer) readSignaling() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for in.Scan() {
		var m signalLine
		if err := json.Unmarshal(in.Bytes(), &m); err != nil || m.Type == "" {
			fmt.Fprintln(os.Stderr, "pion-peer: ignoring malformed signaling line")
			continue
		}
		p.onLine(m)
	}
	// The peer may exit as soon as it has reset its side of the channels, before that reset
	// (in flight on the network) reaches us: give it a moment.
	select {
	case <-p.stop:
		return
	case <-p.closedAll:
	case <-time.After(2 * time.Second):
	}
	// After a finished transfer the other side may simply have gone away.
	p.mu.Lock()
	done := p.allClosed
	why := p.errText
	p.mu.Unlock()
	if done {
		p.finish(why == "", why)
	} else {
		p.finish(false, "stdin closed before the session ended")
	}
}

func (p *peer) onLine(m signalLine) {
	switch m.Type {
	case "offer", "answer":
		if m.SDP == nil {
			fmt.Fprintf(os.Stderr, "pion-peer: %s without sdp\n", m.Type)
			return
		}
		if (m.Type == "answer") != p.opts.offer {
			fmt.Fprintf(os.Stderr, "pion-peer: unexpected %s\n", m.Type)
			return
		}
		d := webrtc.SessionDescription{Type: webrtc.NewSDPType(m.Type), SDP: *m.SDP}
		if err := p.pc.SetRemoteDescription(d); err != nil {
			p.finish(false, err.Error())
			return
		}
		if m.Type == "offer" {
			p.mu.Lock()
			p.started = time.Now() // the answerer counts from the description being applied
			p.mu.Unlock()
			answer, err := p.pc.CreateAnswer(nil)
			if err == nil {
				err = p.pc.SetLocalDescription(answer)
			}
			if err != nil {
				p.finish(false, err.Error())
				return
			}
			p.emitDescription(answer)
		}
		p.mu.Lock()
		p.remoteApplied = true
		held := p.heldRemote
		p.heldRemote = nil
		p.mu.Unlock()
		for _, c := range held {
			p.addCandidate(c)
		}
	case "candidate":
		if m.Candidate == nil || *m.Candidate == "" {
			return // end of candidates: nothing to do
		}
		c := webrtc.ICECandidateInit{Candidate: *m.Candidate, SDPMid: m.SDPMid, SDPMLineIndex: m.SDPMLineIndex}
		if c.SDPMid == nil && c.SDPMLineIndex == nil {
			zero := uint16(0)
			c.SDPMLineIndex = &zero
		}
		// The contract: a candidate may come before the description it belongs to; it waits.
		p.mu.Lock()
		if !p.remoteApplied {
			p.heldRemote = append(p.heldRemote, c)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		p.addCandidate(c)
	case "bye":
		p.mu.Lock()
		ok := p.errText == "" && (!p.opts.expectEcho || len(p.channels) > 0)
		why := p.errText
		p.mu.Unlock()
		p.finish(ok, why)
	}
}

func (p *peer) addCandidate(c webrtc.ICECandidateInit) {
	if err := p.pc.AddICECandidate(c); err != nil {
		fmt.Fprintf(os.Stderr, "pion-peer: candidate refused: %v\n", err)
	}
}

func (p *peer) attach(dc *webrtc.DataChannel) {
	c := &channel{dc: dc, low: make(chan struct{}, 1), echoed: make(chan struct{})}
	p.mu.Lock()
	p.channels = append(p.channels, c)
	p.mu.Unlock()
	dc.SetBufferedAmountLowThreshold(lowWater)
	// Pion calls this from inside its SCTP association: only wake the sender here.
	dc.OnBufferedAmountLow(func() {
		select {
		case c.low <- struct{}{}:
		default:
		}
	})
	dc.OnOpen(func() {
		p.mu.Lock()
		if p.connectedAt.IsZero() {
			p.connectedAt = time.Now()
		}
		p.mu.Unlock()
		id := 0
		if dc.ID() != nil {
			id = int(*dc.ID())
		}
		emit(event("open").with("label", dc.Label()).with("id", id).with("protocol", dc.Protocol()))
		if p.file != nil {
			go p.send(c)
		}
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) { p.onMessage(c, m) })
	dc.OnError(func(err error) {
		fmt.Fprintf(os.Stderr, "pion-peer: channel %s: %v\n", dc.Label(), err)
	})
	dc.OnClose(func() { p.onClosed(c) })
}

func (p *peer) onMessage(c *channel, m webrtc.DataChannelMessage) {
	p.mu.Lock()
	now := time.Now()
	if p.firstByte.IsZero() {
		p.firstByte = now
	}
	p.lastByte = now
	if p.opts.expectEcho {
		// Echoed data must come back byte-equal and in order, per channel.
		at := c.echoOffset
		if at+len(m.Data) > len(p.file) || string(m.Data) != string(p.file[at:at+len(m.Data)]) {
			if p.errText == "" {
				p.errText = "echo mismatch on channel " + c.dc.Label()
			}
		}
		c.echoOffset += len(m.Data)
		if c.echoOffset >= len(p.file) {
			select {
			case <-c.echoed:
			default:
				close(c.echoed)
			}
		}
	}
	p.bytesReceived += uint64(len(m.Data))
	p.messages++
	p.hash.Write(m.Data)
	if p.recvOut != nil {
		p.recvOut.Write(m.Data)
	}
	p.mu.Unlock()
	if p.opts.echo {
		var err error
		if m.IsString {
			err = c.dc.SendText(string(m.Data))
		} else {
			err = c.dc.Send(m.Data)
		}
		if err == nil {
			p.mu.Lock()
			p.bytesSent += uint64(len(m.Data))
			p.mu.Unlock()
		}
	}
}

// send runs on a goroutine of its own per channel: the file in --chunk messages under the
// high-water mark, then (with --expect-echo, once everything came back) the close that marks
// the end of the transfer.
func (p *peer) send(c *channel) {
	offset := 0
	for offset < len(p.file) {
		for c.dc.BufferedAmount() >= highWater {
			select {
			case <-c.low:
			case <-time.After(100 * time.Millisecond): // a wake-up lost to a race costs little
			case <-p.stop:
				return
			}
		}
		n := len(p.file) - offset
		if n > p.opts.chunk {
			n = p.opts.chunk
		}
		var err error
		if p.opts.text {
			n = utf8Prefix(p.file[offset:], p.opts.chunk)
			err = c.dc.SendText(string(p.file[offset : offset+n]))
		} else {
			err = c.dc.Send(p.file[offset : offset+n])
		}
		if err != nil {
			p.finish(false, err.Error())
			return
		}
		p.mu.Lock()
		if p.firstByte.IsZero() {
			p.firstByte = time.Now()
		}
		p.bytesSent += uint64(n)
		p.mu.Unlock()
		offset += n
	}
	if p.opts.expectEcho && len(p.file) > 0 {
		select {
		case <-c.echoed:
		case <-p.stop:
			return
		}
	}
	// The end-of-transfer mark: Pion queues the stream reset behind the data sent before it.
	p.mu.Lock()
	c.closeRequested = true
	p.mu.Unlock()
	if err := c.dc.Close(); err != nil {
		p.finish(false, err.Error())
	}
}

// utf8Prefix is the length of the longest run of whole characters within limit bytes, or of
// the first character when that alone is longer.
func utf8Prefix(b []byte, limit int) int {
	if len(b) <= limit {
		return len(b)
	}
	n := 0
	for n < len(b) {
		_, size := utf8.DecodeRune(b[n:])
		if n+size > limit {
			if n == 0 {
				return size
			}
			break
		}
		n += size
	}
	return n
}

func (p *peer) onClosed(c *channel) {
	p.mu.Lock()
	c.closed = true
	if p.opts.sendFile != "" && !c.closeRequested {
		p.mu.Unlock()
		p.finish(false, "channel "+c.dc.Label()+" closed by the peer mid-transfer")
		return
	}
	for _, other := range p.channels {
		if !other.closed {
			p.mu.Unlock()
			return
		}
	}
	if p.allClosed { // Pion said it twice
		p.mu.Unlock()
		return
	}
	p.allClosed = true
	close(p.closedAll)
	sender := p.opts.sendFile != ""
	if sender {
		p.lastByte = time.Now()
	}
	why := p.errText
	p.mu.Unlock()
	if sender {
		// Every channel closed: a sender says bye as well, for peers that wait for it.
		emit(event("bye"))
		p.finish(why == "", why)
		return
	}
	go p.finishAfterClose()
}

// finishAfterClose ends a receiver whose channels all closed. Pion reports the close as soon
// as the peer's stream reset arrives, while its own reset (queued behind the last echoes) may
// still be on its way: the peer's bye (which finishes at once), the end of stdin or a short
// grace lets it go out before the association is torn down.
func (p *peer) finishAfterClose() {
	select {
	case <-p.stop:
	case <-time.After(2 * time.Second):
	}
	p.mu.Lock()
	why := p.errText
	p.mu.Unlock()
	p.finish(why == "", why)
}

func (p *peer) finish(ok bool, why string) {
	p.mu.Lock()
	if p.finished {
		p.mu.Unlock()
		return
	}
	p.finished = true
	close(p.stop)
	connected := !p.connectedAt.IsZero()
	if ok && !connected && why == "" {
		why = "no data channel opened"
	}
	ok = ok && connected
	var connectMs, transferMs, errorText any // null unless known
	if connected {
		connectMs = ms(p.connectedAt.Sub(p.started))
	}
	if !p.firstByte.IsZero() && !p.lastByte.IsZero() {
		transferMs = ms(p.lastByte.Sub(p.firstByte))
	}
	if why != "" {
		errorText = why
	}
	result := event("result").with("ok", ok).with("role", p.role()).
		with("bytesSent", p.bytesSent).with("bytesReceived", p.bytesReceived).
		with("messagesReceived", p.messages).with("sha256", hex.EncodeToString(p.hash.Sum(nil))).
		with("connectMs", connectMs).with("transferMs", transferMs).with("error", errorText).
		with("tracks", []any{})
	p.mu.Unlock()
	state := "closed"
	if !ok {
		state = "failed"
	}
	emit(event("state").with("connectionState", state))
	emit(result)
	p.result <- ok
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
