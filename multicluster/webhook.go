package multicluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WebhookType says when a webhook is called, as Flagger's webhook types
// do.
type WebhookType string

// Webhook types.
const (
	// WebhookConfirmRollout is called before the first wave, before any
	// cluster changes, again every Interval until it answers 2xx: the
	// rollout waits for it (Running, its reason naming the hook) until it
	// does or the rollout is aborted (Flagger's confirm-rollout).
	WebhookConfirmRollout WebhookType = "confirm-rollout"
	// WebhookPreRollout is called once before the first wave, after the
	// confirm-rollout hooks; a failure fails the gate before any cluster
	// changes (Flagger's pre-rollout).
	WebhookPreRollout WebhookType = "pre-rollout"
	// WebhookConfirmWave is called before each later wave, as
	// WebhookConfirmRollout is before the first.
	WebhookConfirmWave WebhookType = "confirm-wave"
	// WebhookWave is called once after each wave's clusters are Available,
	// before its analysis; a failure fails the gate (Flagger's rollout
	// hook, once per wave).
	WebhookWave WebhookType = "wave"
	// WebhookPostRollout is called once the rollout reached a final phase
	// (whichever); a failure is reported in Status.Webhooks and an
	// EventWebhook, and changes nothing else (Flagger's post-rollout).
	WebhookPostRollout WebhookType = "post-rollout"
)

// DefaultWebhookTimeout bounds one webhook call, as Flagger's default
// does.
const DefaultWebhookTimeout = 10 * time.Second

// ErrWebhookFailed: a webhook answered other than 2xx, could not be
// reached, or (a Go hook) returned an error.
var ErrWebhookFailed = errors.New("webhook failed")

// Webhook is a call out of the rollout: an HTTP POST of a WebhookPayload
// as JSON to URL, where a 2xx answer is success, or a Go func.
type Webhook struct {
	// Name names the hook in status, events and errors.
	Name string
	// Type says when it is called.
	Type WebhookType
	// URL receives the POST (http or https). Exactly one of URL and Func
	// is set.
	URL string
	// Func is called instead of a URL; an error is a failure.
	Func func(ctx context.Context, payload WebhookPayload) error
	// Timeout bounds one call (default DefaultWebhookTimeout).
	Timeout time.Duration
	// Interval is how often a confirm hook is called again while it does
	// not confirm (default: the strategy's PollInterval).
	Interval time.Duration
	// Metadata is passed in the payload as is.
	Metadata map[string]string
	// Client makes the HTTP calls (nil: http.DefaultClient).
	Client *http.Client
}

// WebhookPayload is what a webhook is told.
type WebhookPayload struct {
	// Rollout is the propagation's ID.
	Rollout ID `json:"rollout"`
	// Package and Revision are what is rolled out.
	Package  string `json:"package"`
	Revision string `json:"revision"`
	// Hook and Type are the hook's name and type.
	Hook string      `json:"hook"`
	Type WebhookType `json:"type"`
	// Wave is the wave the hook is called for (-1 for post-rollout).
	Wave int `json:"wave"`
	// Clusters are the wave's clusters, or every target for the
	// confirm-rollout, pre-rollout and post-rollout hooks.
	Clusters []string `json:"clusters"`
	// Phase is the final phase, for post-rollout hooks.
	Phase Phase `json:"phase,omitempty"`
	// Metadata is the hook's Metadata.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// WebhookError is a failed webhook call; it wraps ErrWebhookFailed and
// the cause, if any.
type WebhookError struct {
	// Hook and Type name the hook; URL is where it was sent ("" for a Go
	// hook).
	Hook string
	Type WebhookType
	URL  string
	// StatusCode is the HTTP answer's status (0: none came).
	StatusCode int
	// Message is the start of the answer's body, or the cause's text.
	Message string
	// Err is the cause (nil for a non-2xx answer).
	Err error
}

// Error implements error.
func (e *WebhookError) Error() string {
	where := e.URL
	if where == "" {
		where = "func"
	}
	msg := fmt.Sprintf("%v: %s hook %s (%s)", ErrWebhookFailed, e.Type, e.Hook, where)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap returns ErrWebhookFailed and the cause.
func (e *WebhookError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrWebhookFailed}
	}
	return []error{ErrWebhookFailed, e.Err}
}

// WebhookStatus is a webhook's last call in a rollout.
type WebhookStatus struct {
	// Name and Type are the hook's.
	Name string
	Type WebhookType
	// Wave is the wave of the last call (-1 for post-rollout).
	Wave int
	// Calls and Failures count its calls and failed calls so far.
	Calls, Failures int
	// StatusCode is the last HTTP status (0: none, or a Go hook).
	StatusCode int
	// Message is the last failure ("" after a success).
	Message string
	// Time is when it was last called.
	Time time.Time
}

func (h Webhook) validate(field string) error {
	switch h.Type {
	case WebhookConfirmRollout, WebhookPreRollout, WebhookConfirmWave, WebhookWave, WebhookPostRollout:
	case "":
		return fieldError(ErrInvalidStrategy, field+".type", "missing (%s, %s, %s, %s or %s)", WebhookConfirmRollout, WebhookPreRollout, WebhookConfirmWave, WebhookWave, WebhookPostRollout)
	default:
		return fieldError(ErrInvalidStrategy, field+".type", "unknown %q", h.Type)
	}
	switch {
	case h.Name == "":
		return fieldError(ErrInvalidStrategy, field+".name", "missing")
	case (h.URL == "") == (h.Func == nil):
		return fieldError(ErrInvalidStrategy, field+".url", "set exactly one of url and func")
	case h.Timeout < 0:
		return fieldError(ErrInvalidStrategy, field+".timeout", "negative: %s", h.Timeout)
	case h.Interval < 0:
		return fieldError(ErrInvalidStrategy, field+".interval", "negative: %s", h.Interval)
	}
	if h.URL != "" {
		u, err := url.Parse(h.URL)
		if err != nil {
			return fieldError(ErrInvalidStrategy, field+".url", "%v", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fieldError(ErrInvalidStrategy, field+".url", "%q is not an http or https URL", h.URL)
		}
	}
	return nil
}

// Call calls the hook once with payload, as a rollout does (users can try
// their hooks with it); a failure is a *WebhookError.
func (h Webhook) Call(ctx context.Context, p WebhookPayload) error {
	ctx, cancel := context.WithTimeout(ctx, cmpOr(h.Timeout, DefaultWebhookTimeout))
	defer cancel()
	fail := func(code int, msg string, err error) error {
		return &WebhookError{Hook: h.Name, Type: h.Type, URL: h.URL, StatusCode: code, Message: msg, Err: err}
	}
	if h.Func != nil {
		if err := h.Func(ctx, p); err != nil {
			return fail(0, err.Error(), err)
		}
		return nil
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fail(0, err.Error(), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fail(0, err.Error(), err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fail(0, err.Error(), err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail(resp.StatusCode, strings.TrimSpace(string(answer)), nil)
	}
	return nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// payload is what hook h is told about wave wi (-1: the whole rollout).
func (r *rollout) payload(h Webhook, wi int, phase Phase) WebhookPayload {
	p := WebhookPayload{Rollout: r.id, Package: r.pkg.Name, Revision: r.pkg.Revision, Hook: h.Name, Type: h.Type, Wave: wi, Phase: phase, Metadata: h.Metadata}
	if wi >= 0 && h.Type != WebhookConfirmRollout && h.Type != WebhookPreRollout {
		p.Clusters = append([]string(nil), r.waves[wi]...)
		return p
	}
	for _, w := range r.waves {
		p.Clusters = append(p.Clusters, w...)
	}
	return p
}

// callHook calls h for wave wi, records the outcome in the status, and
// emits an EventWebhook when report says so (or it failed for the first
// time in a row).
func (r *rollout) callHook(ctx context.Context, h Webhook, wi int, phase Phase) error {
	err := h.Call(ctx, r.payload(h, wi, phase))
	r.mu.Lock()
	i := 0
	for i < len(r.k.hooks) && r.k.hooks[i].Name != h.Name {
		i++
	}
	if i == len(r.k.hooks) {
		r.k.hooks = append(r.k.hooks, WebhookStatus{Name: h.Name, Type: h.Type})
	}
	st := &r.k.hooks[i]
	firstFailure := err != nil && st.Message == ""
	st.Wave, st.Calls, st.Time, st.StatusCode, st.Message = wi, st.Calls+1, time.Now(), 0, ""
	var we *WebhookError
	if errors.As(err, &we) {
		st.StatusCode = we.StatusCode
	}
	if err != nil {
		st.Failures++
		st.Message = err.Error()
	}
	r.dirty = true
	r.mu.Unlock()
	msg := fmt.Sprintf("%s hook %s succeeded", h.Type, h.Name)
	if err != nil {
		msg = err.Error()
	}
	if err == nil || firstFailure || h.Type == WebhookPostRollout {
		r.emitWave(Event{Type: EventWebhook, Wave: wi, Message: msg})
	}
	return err
}

// callHooks calls the hooks of type typ for wave wi once each; the first
// failure fails the gate.
func (r *rollout) callHooks(ctx context.Context, typ WebhookType, wi int) (bool, string) {
	for _, h := range r.s.Webhooks {
		if h.Type != typ {
			continue
		}
		if err := r.callHook(ctx, h, wi, ""); err != nil {
			if ctx.Err() != nil {
				return false, "stopped"
			}
			if wi >= 0 && typ == WebhookWave {
				return false, fmt.Sprintf("after wave %d: %v", wi, err)
			}
			return false, err.Error()
		}
	}
	return true, ""
}

// confirmHooks calls the confirm hooks of type typ for wave wi until each
// answers 2xx, waiting in between; false when ctx ended first.
func (r *rollout) confirmHooks(ctx context.Context, typ WebhookType, wi int) bool {
	for _, h := range r.s.Webhooks {
		if h.Type != typ {
			continue
		}
		reason := ""
		for {
			err := r.callHook(ctx, h, wi, "")
			if ctx.Err() != nil {
				return false
			}
			if err == nil {
				break
			}
			reason = fmt.Sprintf("waiting for %s hook %s before wave %d: %v", h.Type, h.Name, wi, err)
			r.setReason(reason)
			t := time.NewTimer(cmpOr(h.Interval, r.s.PollInterval))
			select {
			case <-ctx.Done():
				t.Stop()
				return false
			case <-t.C:
			}
		}
		if reason != "" {
			r.clearReason(reason)
		}
	}
	return true
}

// postRolloutHooks calls the post-rollout hooks once the rollout is in
// its final phase; failures are only reported.
func (r *rollout) postRolloutHooks(ctx context.Context, phase Phase) {
	for _, h := range r.s.Webhooks {
		if h.Type == WebhookPostRollout {
			_ = r.callHook(ctx, h, -1, phase)
		}
	}
}
