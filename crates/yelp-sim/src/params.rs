//! Query strings: decoding (repeated keys included) and the synchronous checks of create and edit.

use chrono::NaiveDate;

use crate::error::ApiError;
use crate::model::{FeePeriod, PacingMethod, ProgramType, is_alias_syntax};

/// A strict `YYYY-MM-DD` date.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let bytes = s.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let year = s.get(0..4)?.parse().ok()?;
    let month = s.get(5..7)?.parse().ok()?;
    let day = s.get(8..10)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The decoded pairs of a query string, in order, repeated keys kept.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Decodes `a=1&b=x+y&c=%2C` form-style; never fails (bad escapes stay as they are).
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let raw = raw.unwrap_or_default();
        Self(
            url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Every value given for `name`.
    pub(crate) fn values<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The one value of `name`, if given; giving it twice is an error.
    pub(crate) fn single(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self.values(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::invalid(format!(
                "The parameter `{name}` is given more than once."
            )));
        }
        Ok(first)
    }

    /// A required, non-empty value.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiError> {
        match self.single(name)? {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(ApiError::missing(name)),
        }
    }

    fn parsed<T>(
        &self,
        name: &str,
        what: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        match self.single(name)? {
            None => Ok(None),
            Some(value) => parse(value).map(Some).ok_or_else(|| {
                ApiError::invalid(format!(
                    "The parameter `{name}` must be {what}; got `{}`.",
                    shorten(value)
                ))
            }),
        }
    }

    /// A `YYYY-MM-DD` date.
    pub(crate) fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.parsed(name, "a date in the form YYYY-MM-DD", parse_date)
    }

    /// An integer number of cents.
    pub(crate) fn cents(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.parsed(name, "an integer number of cents", |v| {
            let digits = v.strip_prefix('-').unwrap_or(v);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            v.parse().ok()
        })
    }

    /// `true` or `false`.
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.parsed(name, "true or false", |v| match v {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }

    /// A non-negative integer such as an offset or a limit.
    pub(crate) fn natural(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.parsed(name, "a non-negative integer", |v| {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            v.parse().ok()
        })
    }

    /// `ad_categories`, as repeated keys, comma-separated values, or both mixed.
    ///
    /// `None` when the key is absent; `Some(empty)` when it is present with no aliases.
    pub(crate) fn categories(&self) -> Result<Option<Vec<String>>, ApiError> {
        let mut present = false;
        let mut aliases = Vec::new();
        for value in self
            .values("ad_categories")
            .chain(self.values("ad_categories[]"))
        {
            present = true;
            for alias in value.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                if !is_alias_syntax(alias) {
                    return Err(ApiError::invalid(format!(
                        "The parameter `ad_categories` holds `{}`, which is not a category alias \
                         (1 to 64 letters, digits, '_' or '-').",
                        shorten(alias)
                    )));
                }
                aliases.push(alias.to_owned());
            }
        }
        Ok(present.then_some(aliases))
    }
}

/// At most 60 characters of a client value, for error messages.
fn shorten(value: &str) -> String {
    let mut short: String = value.chars().take(60).collect();
    if short.len() < value.len() {
        short.push('…');
    }
    short
}

/// A requested value as receipts echo it: a string, or an array for list parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requested {
    /// One value, echoed as a string.
    Value(String),
    /// A list parameter: one result per item.
    List(Vec<String>),
}

/// Requested fields in receipt order.
pub(crate) type RequestedFields = Vec<(&'static str, Requested)>;

fn push_value(fields: &mut RequestedFields, key: &'static str, value: Option<String>) {
    if let Some(value) = value {
        fields.push((key, Requested::Value(value)));
    }
}

/// The CPC settings create and edit share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CpcParams {
    pub budget: Option<i64>,
    pub is_autobid: Option<bool>,
    pub max_bid: Option<i64>,
    pub pacing_method: Option<PacingMethod>,
    pub ad_categories: Option<Vec<String>>,
}

impl CpcParams {
    fn parse(query: &QueryParams) -> Result<Self, ApiError> {
        Ok(Self {
            budget: query.cents("budget")?,
            is_autobid: query.boolean("is_autobid")?,
            max_bid: query.cents("max_bid")?,
            pacing_method: query.parsed("pacing_method", "paced or unpaced", |v| v.parse().ok())?,
            ad_categories: query.categories()?,
        })
    }

    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A create submission that passed the synchronous checks (contract §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreateRequest {
    pub business_id: String,
    pub program_type: ProgramType,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub promotion_code: Option<String>,
    pub currency: Option<String>,
    pub fee_period: Option<FeePeriod>,
    pub cpc: CpcParams,
}

impl CreateRequest {
    /// Checks the parameters; CPC-only parameters of other types are checked, then ignored.
    pub(crate) fn parse(query: &QueryParams) -> Result<Self, ApiError> {
        let business_id = query.required("business_id")?.to_owned();
        let program_name = query.required("program_name")?;
        let program_type: ProgramType = program_name.parse().map_err(|_| {
            ApiError::invalid(format!(
                "The parameter `program_name` must be one of BP, EP, CPC, RCA, CTA, SLIDESHOW, BH, \
                 VL, LOGO, PORTFOLIO; got `{}`.",
                shorten(program_name)
            ))
        })?;
        let start = query.date("start")?;
        let end = query.date("end")?;
        let promotion_code = query.single("promotion_code")?.map(str::to_owned);
        let currency = query.parsed("currency", "a three-letter currency code", |v| {
            (v.len() == 3 && v.bytes().all(|b| b.is_ascii_uppercase())).then(|| v.to_owned())
        })?;
        let fee_period = query.parsed(
            "fee_period",
            "CALENDAR_MONTH or ROLLING_MONTH",
            FeePeriod::from_request,
        )?;
        let mut cpc = CpcParams::parse(query)?;
        let is_cpc = program_type == ProgramType::Cpc;
        if !is_cpc {
            cpc = CpcParams::default();
        }
        // An empty `ad_categories=` on create means the whole listing, as leaving it out does.
        if cpc.ad_categories.as_ref().is_some_and(Vec::is_empty) {
            cpc.ad_categories = None;
        }
        Ok(Self {
            business_id,
            program_type,
            start,
            end,
            promotion_code,
            currency: currency.filter(|_| is_cpc),
            fee_period: fee_period.filter(|_| is_cpc),
            cpc,
        })
    }

    /// The fields a receipt echoes, in order.
    pub(crate) fn requested(&self) -> RequestedFields {
        let mut fields = vec![
            (
                "yelp_business_id",
                Requested::Value(self.business_id.clone()),
            ),
            (
                "program_name",
                Requested::Value(self.program_type.to_string()),
            ),
        ];
        push_value(&mut fields, "start", self.start.map(|d| d.to_string()));
        push_value(&mut fields, "end", self.end.map(|d| d.to_string()));
        push_value(&mut fields, "promotion_code", self.promotion_code.clone());
        push_value(&mut fields, "currency", self.currency.clone());
        push_cpc(&mut fields, &self.cpc);
        push_value(
            &mut fields,
            "fee_period",
            self.fee_period.map(|f| f.request_str().to_owned()),
        );
        if let Some(categories) = &self.cpc.ad_categories {
            fields.push(("ad_categories", Requested::List(categories.clone())));
        }
        fields
    }
}

fn push_cpc(fields: &mut RequestedFields, cpc: &CpcParams) {
    push_value(fields, "budget", cpc.budget.map(|c| c.to_string()));
    push_value(fields, "is_autobid", cpc.is_autobid.map(|b| b.to_string()));
    push_value(fields, "max_bid", cpc.max_bid.map(|c| c.to_string()));
    push_value(
        fields,
        "pacing_method",
        cpc.pacing_method.map(|p| p.as_str().to_uppercase()),
    );
}

/// An edit submission that passed the synchronous checks (contract §4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EditRequest {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub future_budget_date: Option<NaiveDate>,
    pub cpc: CpcParams,
}

impl EditRequest {
    /// Checks the parameters; at least one change is needed.
    pub(crate) fn parse(query: &QueryParams) -> Result<Self, ApiError> {
        let request = Self {
            start: query.date("start")?,
            end: query.date("end")?,
            future_budget_date: query.date("future_budget_date")?,
            cpc: CpcParams::parse(query)?,
        };
        if request.future_budget_date.is_some() && request.cpc.budget.is_none() {
            return Err(ApiError::invalid(
                "The parameter `future_budget_date` needs `budget`: it schedules a budget change.",
            ));
        }
        if request.start.is_none() && request.end.is_none() && request.cpc.is_empty() {
            return Err(ApiError::BadRequest {
                id: "MISSING_PARAMETER",
                description: "Nothing to change: give at least one of start, end, budget, \
                              max_bid, is_autobid, pacing_method, ad_categories."
                    .into(),
            });
        }
        Ok(request)
    }

    /// The fields a receipt echoes, in order (the program id first).
    pub(crate) fn requested(&self, program_id: &str) -> RequestedFields {
        let mut fields = vec![("program_id", Requested::Value(program_id.to_owned()))];
        push_value(&mut fields, "start", self.start.map(|d| d.to_string()));
        push_value(&mut fields, "end", self.end.map(|d| d.to_string()));
        push_cpc(&mut fields, &self.cpc);
        push_value(
            &mut fields,
            "future_budget_date",
            self.future_budget_date.map(|d| d.to_string()),
        );
        if let Some(categories) = &self.cpc.ad_categories {
            fields.push(("ad_categories", Requested::List(categories.clone())));
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(raw: &str) -> QueryParams {
        QueryParams::parse(Some(raw))
    }

    #[test]
    fn dates_must_be_exactly_year_month_day() {
        assert!(parse_date("2026-03-19").is_some());
        assert!(parse_date("2026-3-19").is_none());
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("19/03/2026").is_none());
        assert!(parse_date("+026-03-19").is_none());
    }

    #[test]
    fn categories_come_as_repeated_keys_commas_or_both() {
        let q =
            query("ad_categories=plumbing&ad_categories=hvac,roofing&ad_categories=%20pizza%20");
        assert_eq!(
            q.categories().expect("valid"),
            Some(vec![
                "plumbing".into(),
                "hvac".into(),
                "roofing".into(),
                "pizza".into()
            ])
        );
        assert_eq!(
            query("ad_categories=").categories().expect("valid"),
            Some(vec![])
        );
        assert_eq!(query("x=1").categories().expect("valid"), None);
        assert!(query("ad_categories=Home+Services").categories().is_err());
    }

    #[test]
    fn cents_and_booleans_are_strict() {
        assert_eq!(query("budget=150000").cents("budget"), Ok(Some(150_000)));
        assert!(query("budget=1.5").cents("budget").is_err());
        assert!(query("budget=").cents("budget").is_err());
        assert!(query("budget=1&budget=2").cents("budget").is_err());
        assert!(
            query("budget=99999999999999999999")
                .cents("budget")
                .is_err()
        );
        assert_eq!(
            query("is_autobid=true").boolean("is_autobid"),
            Ok(Some(true))
        );
        assert!(query("is_autobid=yes").boolean("is_autobid").is_err());
    }

    #[test]
    fn create_needs_a_business_and_a_known_type() {
        assert!(CreateRequest::parse(&query("program_name=CPC")).is_err());
        assert!(CreateRequest::parse(&query("business_id=b&program_name=XYZ")).is_err());
        assert!(
            CreateRequest::parse(&query("business_id=b&program_name=CPC&pacing_method=fast"))
                .is_err()
        );
        assert!(
            CreateRequest::parse(&query("business_id=b&program_name=CPC&fee_period=WEEK")).is_err()
        );
    }

    #[test]
    fn cpc_parameters_of_other_types_are_ignored() {
        let request = CreateRequest::parse(&query(
            "business_id=b&program_name=EP&budget=5000&ad_categories=pizza",
        ))
        .expect("valid");
        assert_eq!(request.cpc, CpcParams::default());
        let keys: Vec<_> = request.requested().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, vec!["yelp_business_id", "program_name"]);
    }

    #[test]
    fn receipts_echo_pacing_uppercased_and_categories_as_a_list() {
        let request = CreateRequest::parse(&query(
            "business_id=b&program_name=CPC&budget=300000&is_autobid=true&pacing_method=paced&ad_categories=plumbing",
        ))
        .expect("valid");
        let fields = request.requested();
        assert!(fields.contains(&("pacing_method", Requested::Value("PACED".into()))));
        assert!(fields.contains(&("budget", Requested::Value("300000".into()))));
        assert!(fields.contains(&("ad_categories", Requested::List(vec!["plumbing".into()]))));
    }

    #[test]
    fn an_edit_needs_something_to_change() {
        assert!(EditRequest::parse(&query("")).is_err());
        assert!(EditRequest::parse(&query("future_budget_date=2030-01-01")).is_err());
        let clear = EditRequest::parse(&query("ad_categories=")).expect("clearing is a change");
        assert_eq!(clear.cpc.ad_categories, Some(vec![]));
    }
}
