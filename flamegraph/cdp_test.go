package flamegraph_test

// A small driver for headless Chromium over the DevTools protocol: a
// websocket client (RFC 6455, client side: masked frames out, unmasked in,
// continuation frames, ping/pong) and CDP calls with ids, enough to load a
// page, evaluate JavaScript, dispatch real mouse and keyboard input and
// take screenshots.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// chromiumPath is Debian's chromium package.
const chromiumPath = "/usr/bin/chromium"

// wsConn is a client websocket connection.
type wsConn struct {
	c  net.Conn
	br *bufio.Reader
	wm sync.Mutex
}

func wsDial(rawURL string) (*wsConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("websocket dial %s: %w", rawURL, err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("websocket dial %s: %w", rawURL, err)
	}
	key := make([]byte, 16)
	rand.Read(key)
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\n" +
		"Host: " + u.Host + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	br := bufio.NewReaderSize(c, 1<<20)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: status %s", resp.Status)
	}
	return &wsConn{c: c, br: br}, nil
}

func (w *wsConn) writeFrame(opcode byte, payload []byte) error {
	w.wm.Lock()
	defer w.wm.Unlock()
	var hdr [14]byte
	hdr[0] = 0x80 | opcode // FIN
	n := 2
	switch l := len(payload); {
	case l < 126:
		hdr[1] = 0x80 | byte(l)
	case l < 1<<16:
		hdr[1] = 0x80 | 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(l))
		n = 4
	default:
		hdr[1] = 0x80 | 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(l))
		n = 10
	}
	mask := hdr[n : n+4]
	rand.Read(mask)
	n += 4
	masked := make([]byte, len(payload))
	for i, b := range payload {
		masked[i] = b ^ mask[i%4]
	}
	if _, err := w.c.Write(append(hdr[:n:n], masked...)); err != nil {
		return fmt.Errorf("websocket write: %w", err)
	}
	return nil
}

// readMessage returns the next text or binary message, answering pings.
func (w *wsConn) readMessage() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.br, h[:]); err != nil {
			return nil, fmt.Errorf("websocket read: %w", err)
		}
		fin, opcode := h[0]&0x80 != 0, h[0]&0x0f
		l := uint64(h[1] & 0x7f)
		switch l {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, fmt.Errorf("websocket read: %w", err)
			}
			l = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, fmt.Errorf("websocket read: %w", err)
			}
			l = binary.BigEndian.Uint64(b[:])
		}
		if l > 256<<20 {
			return nil, fmt.Errorf("websocket read: frame of %d bytes", l)
		}
		var mask [4]byte
		if h[1]&0x80 != 0 {
			if _, err := io.ReadFull(w.br, mask[:]); err != nil {
				return nil, fmt.Errorf("websocket read: %w", err)
			}
		}
		payload := make([]byte, l)
		if _, err := io.ReadFull(w.br, payload); err != nil {
			return nil, fmt.Errorf("websocket read: %w", err)
		}
		if h[1]&0x80 != 0 {
			for i := range payload {
				payload[i] ^= mask[i%4]
			}
		}
		switch opcode {
		case 0x8:
			return nil, fmt.Errorf("websocket read: connection closed by peer")
		case 0x9:
			if err := w.writeFrame(0xA, payload); err != nil {
				return nil, err
			}
			continue
		case 0xA:
			continue
		}
		msg = append(msg, payload...)
		if fin {
			return msg, nil
		}
	}
}

func (w *wsConn) Close() error { return w.c.Close() }

// cdpEvent is a DevTools event.
type cdpEvent struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// cdp is a session with one page target.
type cdp struct {
	tb     testing.TB
	ws     *wsConn
	nextID int
	events []cdpEvent
}

// call sends a command and waits for its answer, keeping the events that
// arrive meanwhile.
func (c *cdp) call(method string, params any, result any) error {
	c.nextID++
	id := c.nextID
	if params == nil {
		params = struct{}{}
	}
	req, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err := c.ws.writeFrame(0x1, req); err != nil {
		return err
	}
	c.ws.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		b, err := c.ws.readMessage()
		if err != nil {
			return fmt.Errorf("cdp %s: %w", method, err)
		}
		var m struct {
			ID     int             `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("cdp %s: decode message: %w", method, err)
		}
		if m.Method != "" {
			c.events = append(c.events, cdpEvent{m.Method, m.Params})
			continue
		}
		if m.ID != id {
			continue
		}
		if m.Error != nil {
			return fmt.Errorf("cdp %s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	}
}

// waitEvent reads messages until an event with this method arrives (or
// one already did).
func (c *cdp) waitEvent(method string) error {
	for _, e := range c.events {
		if e.Method == method {
			return nil
		}
	}
	c.ws.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		b, err := c.ws.readMessage()
		if err != nil {
			return fmt.Errorf("cdp wait %s: %w", method, err)
		}
		var e cdpEvent
		if err := json.Unmarshal(b, &e); err != nil {
			return fmt.Errorf("cdp wait %s: %w", method, err)
		}
		if e.Method != "" {
			c.events = append(c.events, e)
			if e.Method == method {
				return nil
			}
		}
	}
}

// eval evaluates a JavaScript expression and decodes its (JSON) value.
func (c *cdp) eval(expr string, out any) {
	c.tb.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := c.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r); err != nil {
		c.tb.Fatal(err)
	}
	if r.ExceptionDetails != nil {
		c.tb.Fatalf("evaluate %s: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result.Value, out); err != nil {
			c.tb.Fatalf("evaluate %s: decode %s: %v", expr, r.Result.Value, err)
		}
	}
}

// click presses and releases the left button at (x, y), in CSS pixels.
func (c *cdp) click(x, y float64) {
	c.tb.Helper()
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		p := map[string]any{"type": typ, "x": x, "y": y, "button": "left", "clickCount": 1}
		if typ == "mouseMoved" {
			p = map[string]any{"type": typ, "x": x, "y": y}
		}
		if err := c.call("Input.dispatchMouseEvent", p, nil); err != nil {
			c.tb.Fatal(err)
		}
	}
}

// screenshot returns a PNG of the viewport.
func (c *cdp) screenshot() []byte {
	c.tb.Helper()
	var r struct {
		Data string `json:"data"`
	}
	if err := c.call("Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		c.tb.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		c.tb.Fatalf("decode screenshot: %v", err)
	}
	return b
}

// startChromium runs headless Chromium with remote debugging on a free
// port, attaches to its first page and returns the session. Chromium is
// stopped (by its pid) and its profile removed at cleanup.
func startChromium(t *testing.T, width, height int) *cdp {
	t.Helper()
	profile := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
		"--user-data-dir="+profile, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
		fmt.Sprintf("--window-size=%d,%d", width, height), "about:blank")
	// Stop this chromium (by its pid) with SIGTERM, so that it shuts
	// its helper processes down; SIGKILL after 10 s.
	cmd.Cancel = func() error { return cmd.Process.Signal(unix.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	// "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
	found := make(chan string, 1)
	var log bytes.Buffer
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			log.WriteString(line + "\n")
			logMu.Unlock()
			if _, rest, ok := strings.Cut(line, "DevTools listening on "); ok && !sent {
				found <- strings.TrimSpace(rest)
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	var browserURL string
	select {
	case u, ok := <-found:
		if !ok {
			logMu.Lock()
			defer logMu.Unlock()
			t.Fatalf("chromium exited without a DevTools endpoint:\n%s", log.String())
		}
		browserURL = u
	case <-time.After(60 * time.Second):
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("chromium printed no DevTools endpoint in 60s:\n%s", log.String())
	}
	bu, err := url.Parse(browserURL)
	if err != nil {
		t.Fatalf("devtools endpoint %q: %v", browserURL, err)
	}
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	resp, err := http.Get("http://" + bu.Host + "/json/list")
	if err != nil {
		t.Fatalf("list devtools targets: %v", err)
	}
	err = json.NewDecoder(resp.Body).Decode(&targets)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("list devtools targets: %v", err)
	}
	var pageWS string
	for _, tg := range targets {
		if tg.Type == "page" {
			pageWS = tg.WS
			break
		}
	}
	if pageWS == "" {
		t.Fatalf("chromium has no page target: %+v", targets)
	}
	ws, err := wsDial(pageWS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &cdp{tb: t, ws: ws}
	// The viewport is exactly the requested size, at one device pixel
	// per CSS pixel, so screenshot pixels match SVG coordinates.
	if err := c.call("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false,
	}, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// open loads a local file in the page and waits for its load event.
func (c *cdp) open(path string) {
	c.tb.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		c.tb.Fatal(err)
	}
	for _, m := range []string{"Page.enable", "Network.enable", "Runtime.enable"} {
		if err := c.call(m, nil, nil); err != nil {
			c.tb.Fatal(err)
		}
	}
	c.events = c.events[:0]
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := c.call("Page.navigate", map[string]any{"url": "file://" + abs}, &nav); err != nil {
		c.tb.Fatal(err)
	}
	if nav.ErrorText != "" {
		c.tb.Fatalf("navigate to %s: %s", abs, nav.ErrorText)
	}
	if err := c.waitEvent("Page.loadEventFired"); err != nil {
		c.tb.Fatal(err)
	}
}

// requests lists the URLs the page asked for since open.
func (c *cdp) requests() []string {
	var urls []string
	for _, e := range c.events {
		if e.Method != "Network.requestWillBeSent" {
			continue
		}
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		if json.Unmarshal(e.Params, &p) == nil {
			urls = append(urls, p.Request.URL)
		}
	}
	return urls
}

// consoleErrors lists exceptions thrown and console errors logged since
// open.
func (c *cdp) consoleErrors() []string {
	var errs []string
	for _, e := range c.events {
		switch e.Method {
		case "Runtime.exceptionThrown":
			errs = append(errs, string(e.Params))
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(e.Params, &p) == nil && (p.Type == "error" || p.Type == "assert") {
				errs = append(errs, string(e.Params))
			}
		}
	}
	return errs
}

var errNoChromium = errors.New(chromiumPath + " is not installed (Debian package chromium)")

func haveChromium() error {
	if _, err := os.Stat(chromiumPath); err != nil {
		return errNoChromium
	}
	return nil
}
