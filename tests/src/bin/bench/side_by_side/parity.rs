//! The peer is only a fair comparison if it refuses what the intake refuses: the hostile corpus's requests to
//! `POST /v1/submissions` (every one a valid submission with one thing broken) sent to both APIs, statuses compared.

use std::collections::BTreeMap;

use intake_e2e::deployed::fresh_trial;
use intake_e2e::hostile::{Layer, corpus};
use intake_e2e::{Error, Stack, TokenRequest, http_client, mint_token};
use serde::Serialize;

const PATIENT: &str = "P-000001";

/// How the two stacks answered the same hostile requests.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parity {
    pub requests: usize,
    pub same_status: usize,
    /// Request name → (intake's status, peer's status), where they differ.
    pub differences: BTreeMap<String, (u16, u16)>,
}

pub async fn contract_parity(intake: &Stack, peer: &Stack) -> Result<Parity, Error> {
    let http = http_client();
    let trial = fresh_trial("PARITY");
    let mut statuses: Vec<Vec<u16>> = Vec::new();
    let requests: Vec<_> = corpus(&trial, PATIENT)
        .into_iter()
        .filter(|request| request.layer() == Layer::Function)
        .collect();
    for stack in [intake, peer] {
        let token = mint_token(&http, stack, &TokenRequest::patient(PATIENT, &trial)).await?;
        let mut answered = Vec::with_capacity(requests.len());
        for request in &requests {
            let reply = request.send(&http, &stack.api_url, &token).await;
            answered.push(reply.map_or(0, |r| r.status().as_u16()));
        }
        statuses.push(answered);
    }
    let mut parity = Parity {
        requests: requests.len(),
        ..Parity::default()
    };
    for (request, (ours, theirs)) in requests.iter().zip(statuses[0].iter().zip(&statuses[1])) {
        if ours == theirs {
            parity.same_status += 1;
        } else {
            parity
                .differences
                .insert(request.name.clone(), (*ours, *theirs));
        }
    }
    Ok(parity)
}
