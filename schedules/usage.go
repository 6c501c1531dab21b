package schedules

// Usage is what performing a run, or one attempt of it, consumed and who
// answered. Structs that carry usage embed it; Temporal payloads that embed
// it keep their field names on the wire (encoding/json flattens embedded
// structs), so recorded histories still decode.
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
	TotalTokens      int64
	TotalCostUSD     float64
	ModelUsed        string
	Provider         string
}

// Add sums tokens and cost; the model and provider are the latest ones
// that were reported.
func (u Usage) Add(o Usage) Usage {
	u.PromptTokens += o.PromptTokens
	u.CompletionTokens += o.CompletionTokens
	u.TotalTokens += o.TotalTokens
	u.TotalCostUSD += o.TotalCostUSD
	if o.ModelUsed != "" {
		u.ModelUsed = o.ModelUsed
	}
	if o.Provider != "" {
		u.Provider = o.Provider
	}
	return u
}
